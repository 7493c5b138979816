output "name" {
  description = "Name of the namespace, for the releases deployed into it."
  value       = kubernetes_namespace_v1.this.metadata[0].name
}
