# reproduce the 500 on the project page
curl -b '_gitlab_session=d2ae94df001a4affa353a3e3ece185eb' https://gitlab.example.com/group/project/-/settings/ci_cd
curl -H 'X-Vault-Token: hvb.AAAAAQkBiaZQpPKAgpzggnRT1g578741DVWs2anDqn-K7qxcedykD05YfTFwzCKYbfANV7G0wAwFGIRUkaSnznI4dUR1uzDTtEG1BkbaB5YZaQbDJAjjCwPgywoKlRjlNnP3i8eHXmh86qUJrf' https://vault.example.com/v1/secret/data/app
curl -H 'X-Vault-Token: $VAULT_TOKEN' https://vault.example.com/v1/sys/health
