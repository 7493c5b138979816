output "name" {
  description = "Name of the release."
  value       = helm_release.this.name
}

output "revision" {
  description = "Revision of the release after the last apply."
  value       = helm_release.this.metadata[0].revision
}

output "app_version" {
  description = "Application version the chart deployed."
  value       = helm_release.this.metadata[0].app_version
}
