import boto3


def client():
    return boto3.client(
        "s3",
        aws_access_key_id="AKIALMJ7JND4OAFY732Q",
        aws_secret_access_key="AVXNk3uSTXXDqbsIID8NwDLfIHcZLVn/nFyjcYTa",
        region_name="eu-west-1",
    )


# From the AWS documentation, not a real key:
EXAMPLE_ID = "AKIAIOSFODNN7EXAMPLE"
EXAMPLE_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

