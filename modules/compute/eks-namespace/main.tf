resource "kubernetes_namespace_v1" "this" {
  metadata {
    name = var.name
    labels = merge(var.labels, {
      "app.kubernetes.io/managed-by"       = "terraform"
      "pod-security.kubernetes.io/enforce" = var.pod_security_level
    })
  }
}

resource "kubernetes_resource_quota_v1" "this" {
  metadata {
    name      = "quota"
    namespace = kubernetes_namespace_v1.this.metadata[0].name
  }

  spec {
    hard = {
      "requests.cpu"    = var.quota.requests_cpu
      "requests.memory" = var.quota.requests_memory
      "limits.cpu"      = var.quota.limits_cpu
      "limits.memory"   = var.quota.limits_memory
      pods              = var.quota.pods
    }
  }
}

# With a quota in place, pods must declare resources; this gives sensible ones to those that don't.
resource "kubernetes_limit_range_v1" "this" {
  metadata {
    name      = "defaults"
    namespace = kubernetes_namespace_v1.this.metadata[0].name
  }

  spec {
    limit {
      type = "Container"
      default_request = {
        cpu    = var.default_container_resources.request_cpu
        memory = var.default_container_resources.request_memory
      }
      default = {
        cpu    = var.default_container_resources.limit_cpu
        memory = var.default_container_resources.limit_memory
      }
    }
  }
}

# Pods accept traffic only from their own namespace unless a further policy allows more.
resource "kubernetes_network_policy_v1" "same_namespace_only" {
  metadata {
    name      = "same-namespace-only"
    namespace = kubernetes_namespace_v1.this.metadata[0].name
  }

  spec {
    pod_selector {}
    policy_types = ["Ingress"]

    ingress {
      from {
        pod_selector {}
      }
    }
  }
}
