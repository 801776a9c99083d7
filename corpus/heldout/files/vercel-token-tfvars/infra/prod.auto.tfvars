region = "eu-west-1"
vercel_token = "vcp_U_iVrkYDOIFwWYJ0j5RFbtNdliZ0pAMXPTWywead1yKs1itGNEDVbZEr"
instance_count = 2
