region = "eu-west-1"
vercel_token = "{{ .Values.vercel_token }}"
instance_count = 2
