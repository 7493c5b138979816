output "endpoint" {
  description = "Writer endpoint (host name) of the instance or cluster."
  value       = local.endpoint
}

output "reader_endpoint" {
  description = "Reader endpoint of the Aurora cluster; the instance address for RDS."
  value       = var.is_aurora ? aws_rds_cluster.this[0].reader_endpoint : aws_db_instance.this[0].address
}

output "port" {
  description = "Port the database listens on."
  value       = 3306
}

output "database_name" {
  description = "Name of the application schema."
  value       = var.database_name
}

output "master_secret_arn" {
  description = "ARN of the Secrets Manager secret holding the master credentials (JSON: engine, host, port, username, password, dbname)."
  value       = local.master_secret_arn
}

output "master_secret_replica_arns" {
  description = "ARNs of the credentials secret's replicas, by region (a replica's ARN differs from the primary's only in the region)."
  value = local.owns_secret ? {
    for region in var.secret_replica_regions :
    region => replace(aws_secretsmanager_secret.master[0].arn, ":${data.aws_region.current.name}:", ":${region}:")
  } : {}
}

output "kms_key_arn" {
  description = "ARN of the KMS key encrypting the database and its secret; readers of the secret need kms:Decrypt on it."
  value       = aws_kms_key.this.arn
}

output "global_cluster_identifier" {
  description = "Identifier of the Aurora global database this cluster belongs to, or null."
  value       = var.is_aurora ? local.aurora_cluster_identifier : null
}

output "cloudwatch_dimensions" {
  description = "CloudWatch dimensions identifying the database in AWS/RDS metrics."
  value = var.is_aurora ? {
    DBClusterIdentifier = aws_rds_cluster.this[0].cluster_identifier
    } : {
    DBInstanceIdentifier = aws_db_instance.this[0].identifier
  }
}
