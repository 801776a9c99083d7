terraform {
  required_version = ">= 1.5"
}

provider "aws" {
  region     = "eu-west-1"
  access_key = "AKIAC5VMOZMCIEEUP2QS"
  secret_key = "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"
}

resource "aws_db_instance" "main" {
  engine   = "postgres"
  username = "app"
  password = "Wsdxy053lHdg265%QH84V"
}

resource "aws_db_instance" "replica" {
  password = var.replica_password
}

resource "random_password" "db" {
  length = 24
}

provider "digitalocean" {
  token = "dop_v1_73de1e3e1492dc1f0de03f3eb7b846a1de7970a725cf827f690841e03c569c48"
}
provider "azurerm" {
  client_secret = "IEq7Q~dXEwBytVbImaz7T9RyxePcScrrix4lk45y"
}
variable "db_password" {
  type      = string
  sensitive = true
}

