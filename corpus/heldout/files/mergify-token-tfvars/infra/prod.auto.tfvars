region = "eu-west-1"
mergify_token = "mergify_application_key_z9YfOgOk18WnkKtCki25yU6oTqtEu91WqkTji4VdvqjOHvGtahnYPHVPBIrHiJkx"
instance_count = 2
