# Atomic: a failed install or upgrade is rolled back, so a failed apply leaves the previous
# release running.
resource "helm_release" "this" {
  name       = var.name
  namespace  = var.namespace
  repository = var.repository
  chart      = var.chart
  version    = var.chart_version
  values     = var.values

  atomic          = true
  cleanup_on_fail = true
  wait            = true
  timeout         = var.timeout_seconds
  max_history     = 10

  dynamic "set" {
    for_each = var.set

    content {
      name  = set.key
      value = set.value
    }
  }
}
