variable "name" {
  description = "Name of the namespace."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.name)) && !startswith(var.name, "kube-")
    error_message = "The name must be a DNS label (lowercase letters, digits, hyphens, at most 63) and not start with kube-."
  }
}

variable "labels" {
  description = "Extra labels of the namespace."
  type        = map(string)
  default     = {}
}

variable "pod_security_level" {
  description = "Pod Security Standard enforced in the namespace: privileged, baseline or restricted."
  type        = string
  default     = "restricted"

  validation {
    condition     = contains(["privileged", "baseline", "restricted"], var.pod_security_level)
    error_message = "The pod_security_level must be privileged, baseline or restricted."
  }
}

variable "quota" {
  description = "Resource quota of the namespace: total CPU and memory requests and limits, and pod count."
  type = object({
    requests_cpu    = string
    requests_memory = string
    limits_cpu      = string
    limits_memory   = string
    pods            = number
  })
  default = {
    requests_cpu    = "4"
    requests_memory = "8Gi"
    limits_cpu      = "8"
    limits_memory   = "16Gi"
    pods            = 50
  }
}

variable "default_container_resources" {
  description = "Requests and limits given to containers that declare none."
  type = object({
    request_cpu    = string
    request_memory = string
    limit_cpu      = string
    limit_memory   = string
  })
  default = {
    request_cpu    = "100m"
    request_memory = "128Mi"
    limit_cpu      = "500m"
    limit_memory   = "512Mi"
  }
}
