region = "eu-west-1"
bundle_gems__contribsys__com = "sha256:3b1f3a02c23b6a1c5e883670057d982f1e14cde43b86aeef5d35fd42422c0c88"
instance_count = 2
