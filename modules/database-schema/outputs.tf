output "schema_version" {
  description = "Schema version the database was migrated to by the last apply."
  value       = jsondecode(aws_lambda_invocation.migrate.result).version
}

output "function_name" {
  description = "Name of the migration function, to run it by hand (for example a dry run)."
  value       = module.function.function_name
}
