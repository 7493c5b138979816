output "trail_arn" {
  description = "ARN of the trail."
  value       = aws_cloudtrail.this.arn
}

output "bucket_name" {
  description = "S3 bucket holding the trail's log files."
  value       = aws_s3_bucket.trail.id
}

output "kms_key_arn" {
  description = "ARN of the KMS key encrypting the log files; readers of the logs need kms:Decrypt on it."
  value       = aws_kms_key.trail.arn
}
