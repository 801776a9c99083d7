#!/bin/sh

mysqldump --user=backup --password=iJT3kVbAYco3883=uRgEA --all-databases > /backups/all.sql
export DATABRICKS_TOKEN=dapi6a61fa55582b9759fe1f9852faabba05
sha256sum /backups/all.sql > /backups/all.sql.sha256
# checksum: 47fdb20ea75e978f90260762c4adc414235e57aa02ebf1a2e6e32e5d28982697
