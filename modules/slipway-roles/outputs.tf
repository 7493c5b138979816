output "plan_role_arn" {
  description = "ARN of the read-only plan role, for slipway.toml plan_role."
  value       = aws_iam_role.plan.arn
}

output "apply_role_arn" {
  description = "ARN of the apply role, for slipway.toml apply_role."
  value       = aws_iam_role.apply.arn
}
