variable "name" {
  description = "Name prefix of every resource, for example \"sarc-ng-prod\"."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name))
    error_message = "The name must be 3-32 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "cidr_block" {
  description = "IPv4 CIDR block of the VPC. Each tier gets one /24 per availability zone, at subnet_offsets."
  type        = string

  validation {
    condition     = can(cidrnetmask(var.cidr_block)) && try(tonumber(split("/", var.cidr_block)[1]) >= 16 && tonumber(split("/", var.cidr_block)[1]) <= 19, false)
    error_message = "The cidr_block must be a valid IPv4 CIDR block from /16 to /19, for example 10.0.0.0/16."
  }
}

variable "subnet_offsets" {
  description = "Index of each tier's first /24 in the VPC range (10.0.1.0/24 is index 1 of 10.0.0.0/16); each further zone takes the next one."
  type = object({
    public   = number
    private  = number
    database = number
  })
  default = { public = 1, private = 10, database = 20 }

  validation {
    condition     = var.subnet_offsets.public + 4 <= var.subnet_offsets.private && var.subnet_offsets.private + 4 <= var.subnet_offsets.database && var.subnet_offsets.database + 4 <= 32
    error_message = "The tiers' offsets must leave room for 4 zones each, in the order public, private, database, below 32 (a /19 holds 32 /24s)."
  }
}

variable "availability_zones" {
  description = "Availability zones to spread the public, private and database subnets over."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) >= 2 && length(var.availability_zones) <= 4
    error_message = "Between 2 and 4 availability zones are required (RDS needs at least 2)."
  }

  validation {
    condition     = length(distinct(var.availability_zones)) == length(var.availability_zones)
    error_message = "The availability zones must be distinct."
  }
}

variable "single_nat_gateway" {
  description = "Route every private subnet through one NAT gateway (cheaper) instead of one per availability zone (zone-independent)."
  type        = bool
  default     = false
}

variable "app_port" {
  description = "Port the application containers listen on; the ECS tasks security group accepts it from the ALB only."
  type        = number
  default     = 8080

  validation {
    condition     = var.app_port >= 1 && var.app_port <= 65535 && floor(var.app_port) == var.app_port
    error_message = "The app_port must be an integer between 1 and 65535."
  }
}

variable "enable_flow_logs" {
  description = "Send VPC flow logs (all traffic) to CloudWatch Logs."
  type        = bool
  default     = true
}

variable "flow_logs_retention_days" {
  description = "Days to keep VPC flow logs."
  type        = number
  default     = 90

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1827, 3653], var.flow_logs_retention_days)
    error_message = "The flow_logs_retention_days must be a retention period CloudWatch Logs supports (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, ...)."
  }
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
