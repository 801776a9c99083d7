region = "eu-west-1"
bundle_gems__contribsys__com = "58c0f69b:f85d512b"
instance_count = 2
