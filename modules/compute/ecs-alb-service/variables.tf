variable "name" {
  description = "Name of the service, its task family, load balancer and log group, for example \"sarcng-api-prod\"."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,30}[a-z0-9]$", var.name))
    error_message = "The name must be 2-32 lowercase letters, digits or hyphens (load balancer names are limited to 32 characters)."
  }
}

variable "cluster_arn" {
  description = "ARN of the ECS cluster the service runs in."
  type        = string
}

variable "cluster_name" {
  description = "Name of the ECS cluster the service runs in (auto scaling addresses services by cluster name)."
  type        = string
}

variable "vpc_id" {
  description = "ID of the VPC of the target group."
  type        = string
}

variable "public_subnet_ids" {
  description = "Public subnets of the internet-facing load balancer, in at least two availability zones."
  type        = list(string)

  validation {
    condition     = length(var.public_subnet_ids) >= 2
    error_message = "An application load balancer needs subnets in at least two availability zones."
  }
}

variable "private_subnet_ids" {
  description = "Private subnets the tasks run in."
  type        = list(string)

  validation {
    condition     = length(var.private_subnet_ids) >= 1
    error_message = "At least one private subnet is required."
  }
}

variable "alb_security_group_id" {
  description = "Security group of the load balancer (80 and 443 from anywhere), from the network module."
  type        = string
}

variable "task_security_group_id" {
  description = "Security group of the tasks (the container port from the load balancer only), from the network module."
  type        = string
}

variable "certificate_arn" {
  description = "ARN of the ACM certificate served by the HTTPS listener."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:acm:", var.certificate_arn))
    error_message = "The certificate_arn must be an ACM certificate ARN."
  }
}

variable "ssl_policy" {
  description = "TLS security policy of the HTTPS listener."
  type        = string
  default     = "ELBSecurityPolicy-TLS13-1-2-2021-06"
}

variable "container_image" {
  description = "Container image to run, pinned by tag or digest, for example \"ghcr.io/sarc-ng/sarcng-api:1.4.2\"."
  type        = string

  validation {
    condition     = length(trimspace(var.container_image)) > 0 && !endswith(var.container_image, ":latest")
    error_message = "The container_image must be set and pinned to a version, not :latest."
  }
}

variable "container_port" {
  description = "Port the container listens on; must match the network module's app_port."
  type        = number
  default     = 8080

  validation {
    condition     = var.container_port >= 1 && var.container_port <= 65535 && floor(var.container_port) == var.container_port
    error_message = "The container_port must be an integer between 1 and 65535."
  }
}

variable "container_command" {
  description = "Command overriding the image's default, or null to keep it."
  type        = list(string)
  default     = null
}

variable "cpu" {
  description = "Fargate task CPU units (1024 = one vCPU)."
  type        = number

  validation {
    condition     = contains([256, 512, 1024, 2048, 4096, 8192, 16384], var.cpu)
    error_message = "The cpu must be a Fargate size: 256, 512, 1024, 2048, 4096, 8192 or 16384."
  }
}

variable "memory" {
  description = "Fargate task memory in MiB; between 2 and 8 times cpu, as Fargate allows."
  type        = number

  validation {
    condition     = var.memory >= 512 && var.memory <= 122880 && var.memory % 512 == 0
    error_message = "The memory must be a multiple of 512 MiB between 512 and 122880."
  }
}

variable "environment" {
  description = "Plain environment variables of the container. Never put secrets here: use secrets."
  type        = map(string)
  default     = {}
}

variable "secrets" {
  description = "Environment variables filled from Secrets Manager at task start: name => secret ARN and, for a JSON secret, the key to read."
  type = map(object({
    secret_arn = string
    json_key   = optional(string)
  }))
  default = {}

  validation {
    condition     = alltrue([for s in values(var.secrets) : can(regex("^arn:aws[a-z-]*:secretsmanager:", s.secret_arn))])
    error_message = "Every secret_arn must be a Secrets Manager secret ARN."
  }
}

variable "parameters" {
  description = "Configuration kept in SSM Parameter Store (String parameters under parameter_path) and given to the container as environment variables at task start: name => value. For settings of the deployment, such as the database host; never secrets."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for name in keys(var.parameters) : can(regex("^[A-Za-z_][A-Za-z0-9_]*$", name))])
    error_message = "Parameter names must be environment variable names (letters, digits and underscores)."
  }
}

variable "parameter_path" {
  description = "SSM path the service's parameters live under, for example \"/sarc-ng/prod/use1/sarcng-api\"; null for \"/<name>\"."
  type        = string
  default     = null

  validation {
    condition     = var.parameter_path == null || can(regex("^(/[A-Za-z0-9_.-]+)+$", var.parameter_path))
    error_message = "The parameter_path must start with a slash and not end with one, for example /sarc-ng/prod/use1/sarcng-api."
  }
}

variable "secrets_kms_key_arns" {
  description = "Customer-managed KMS keys encrypting the secrets, which the task execution role may decrypt with."
  type        = list(string)
  default     = []
}

variable "task_role_policy_json" {
  description = "IAM policy document (JSON) granting the application what it calls at run time, or null for no AWS access."
  type        = string
  default     = null
}

variable "health_check_path" {
  description = "HTTP path the target group checks; it must answer 200."
  type        = string
  default     = "/health"

  validation {
    condition     = startswith(var.health_check_path, "/")
    error_message = "The health_check_path must start with a slash."
  }
}

variable "health_check_grace_period_seconds" {
  description = "Seconds after a task starts during which failed load balancer health checks are ignored."
  type        = number
  default     = 60
}

variable "deregistration_delay_seconds" {
  description = "Seconds the load balancer lets in-flight requests finish on a deregistering task."
  type        = number
  default     = 30

  validation {
    condition     = var.deregistration_delay_seconds >= 0 && var.deregistration_delay_seconds <= 3600
    error_message = "The deregistration_delay_seconds must be between 0 and 3600."
  }
}

variable "desired_count" {
  description = "Number of tasks at creation; auto scaling owns the count afterwards."
  type        = number

  validation {
    condition     = var.desired_count >= 0 && floor(var.desired_count) == var.desired_count
    error_message = "The desired_count must be a non-negative integer."
  }
}

variable "min_capacity" {
  description = "Fewest tasks auto scaling may run."
  type        = number

  validation {
    condition     = var.min_capacity >= 0
    error_message = "The min_capacity must not be negative."
  }
}

variable "max_capacity" {
  description = "Most tasks auto scaling may run."
  type        = number

  validation {
    condition     = var.max_capacity >= 1
    error_message = "The max_capacity must be at least 1."
  }
}

variable "cpu_target_percent" {
  description = "Average CPU utilisation auto scaling keeps the service at."
  type        = number
  default     = 70

  validation {
    condition     = var.cpu_target_percent > 0 && var.cpu_target_percent <= 100
    error_message = "The cpu_target_percent must be between 1 and 100."
  }
}

variable "memory_target_percent" {
  description = "Average memory utilisation auto scaling keeps the service at."
  type        = number
  default     = 70

  validation {
    condition     = var.memory_target_percent > 0 && var.memory_target_percent <= 100
    error_message = "The memory_target_percent must be between 1 and 100."
  }
}

variable "scale_out_cooldown_seconds" {
  description = "Seconds after a scale-out before another scale-out may start."
  type        = number
  default     = 300
}

variable "scale_in_cooldown_seconds" {
  description = "Seconds after a scale-in before another scale-in may start."
  type        = number
  default     = 300
}

variable "deployment_controller" {
  description = "How new versions roll out: ECS (rolling, with the circuit breaker) or CODE_DEPLOY (blue-green through CodeDeploy, with a second target group). Switching an existing service replaces it."
  type        = string
  default     = "ECS"

  validation {
    condition     = contains(["ECS", "CODE_DEPLOY"], var.deployment_controller)
    error_message = "The deployment_controller must be ECS or CODE_DEPLOY."
  }
}

variable "blue_green" {
  description = "Blue-green settings with deployment_controller = \"CODE_DEPLOY\": the CodeDeploy deployment configuration (how traffic shifts) and how long the old task set is kept after a successful deployment."
  type = object({
    deployment_config_name   = optional(string, "CodeDeployDefault.ECSAllAtOnce")
    termination_wait_minutes = optional(number, 5)
  })
  default = {}

  validation {
    condition     = var.blue_green.termination_wait_minutes >= 0 && var.blue_green.termination_wait_minutes <= 2880
    error_message = "The termination_wait_minutes must be between 0 and 2880."
  }
}

variable "log_group_name" {
  description = "Name of the container log group, for example \"/ecs/sarc-ng/api\"; null for \"/ecs/<name>\"."
  type        = string
  default     = null
}

variable "capacity_provider_strategy" {
  description = "Capacity providers the tasks run on (FARGATE, FARGATE_SPOT: the cluster offers both), with weight and base; empty to run on the FARGATE launch type. Dev runs on FARGATE_SPOT."
  type = list(object({
    capacity_provider = string
    weight            = optional(number, 1)
    base              = optional(number, 0)
  }))
  default = []

  validation {
    condition     = alltrue([for s in var.capacity_provider_strategy : contains(["FARGATE", "FARGATE_SPOT"], s.capacity_provider)])
    error_message = "The capacity providers must be FARGATE or FARGATE_SPOT."
  }
}

variable "scheduled_scaling" {
  description = "Scheduled changes of the task count's bounds: name => schedule (cron(...) or at(...)) and the min and max capacity from then on. Dev uses it to scale to zero off hours."
  type = map(object({
    schedule     = string
    min_capacity = number
    max_capacity = number
  }))
  default = {}

  validation {
    condition     = alltrue([for action in values(var.scheduled_scaling) : can(regex("^(cron|at|rate)\\(.+\\)$", action.schedule)) && action.min_capacity <= action.max_capacity])
    error_message = "Every schedule must be cron(...), at(...) or rate(...), with min_capacity at most max_capacity."
  }
}

variable "scheduled_scaling_timezone" {
  description = "Time zone the scheduled_scaling cron expressions are in."
  type        = string
  default     = "UTC"
}

variable "log_retention_days" {
  description = "Days to keep the container logs."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1827, 3653], var.log_retention_days)
    error_message = "The log_retention_days must be a retention period CloudWatch Logs supports (1, 3, 5, 7, 14, 30, 60, 90, ...)."
  }
}

variable "dns_record" {
  description = "Simple alias record to create for the load balancer (hosted zone id and fully qualified name), or null. Use the dns/record module for failover or geolocation routing."
  type = object({
    zone_id = string
    name    = string
  })
  default = null
}

variable "enable_deletion_protection" {
  description = "Protect the load balancer against deletion (set in production)."
  type        = bool
  default     = false
}

variable "permissions_boundary_arn" {
  description = "Permissions boundary every IAM role of this module carries (the account's, which the live tree passes to every unit); Slipway's apply role can create no role without it."
  type        = string
  default     = null

  validation {
    condition     = var.permissions_boundary_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:policy/", var.permissions_boundary_arn))
    error_message = "The permissions_boundary_arn must be an IAM policy ARN."
  }
}

variable "tags" {
  description = "Extra tags for every resource, on top of the provider's default_tags."
  type        = map(string)
  default     = {}
}
