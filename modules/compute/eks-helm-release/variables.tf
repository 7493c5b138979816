variable "name" {
  description = "Name of the Helm release."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,51}[a-z0-9])?$", var.name))
    error_message = "The name must be lowercase letters, digits and hyphens, at most 53 characters."
  }
}

variable "namespace" {
  description = "Namespace to install into (for example the eks-namespace module's name output); it must exist."
  type        = string
}

variable "repository" {
  description = "URL of the chart repository (https:// or oci://)."
  type        = string

  validation {
    condition     = can(regex("^(https|oci)://", var.repository))
    error_message = "The repository must be an https:// or oci:// URL."
  }
}

variable "chart" {
  description = "Name of the chart in the repository."
  type        = string
}

variable "chart_version" {
  description = "Exact chart version, so a plan shows every upgrade."
  type        = string

  validation {
    condition     = can(regex("^v?[0-9]+\\.[0-9]+\\.[0-9]+", var.chart_version))
    error_message = "The chart_version must be an exact version such as 1.14.2, not a range."
  }
}

variable "values" {
  description = "Values documents (YAML), later ones overriding earlier ones."
  type        = list(string)
  default     = []
}

variable "set" {
  description = "Single values by path, applied after the values documents."
  type        = map(string)
  default     = {}
}

variable "timeout_seconds" {
  description = "Longest an install or upgrade may take before it is rolled back."
  type        = number
  default     = 600
}
