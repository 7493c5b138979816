data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition

  state_bucket_arns = [for name in concat([var.state_bucket_name], var.extra_state_bucket_names) : "arn:${local.partition}:s3:::${name}"]
  lock_table_arn    = "arn:${local.partition}:dynamodb:*:${local.account_id}:table/${var.lock_table_name}"

  managed_role_arns   = [for prefix in var.managed_name_prefixes : "arn:${local.partition}:iam::${local.account_id}:role/${prefix}*"]
  managed_policy_arns = [for prefix in var.managed_name_prefixes : "arn:${local.partition}:iam::${local.account_id}:policy/${prefix}*"]
  managed_secret_arns = [for prefix in var.managed_name_prefixes : "arn:${local.partition}:secretsmanager:*:${local.account_id}:secret:${prefix}*"]

  permissions_boundary_arn = "arn:${local.partition}:iam::${local.account_id}:policy/${var.permissions_boundary_name}"

  # Slipway's own roles in this account: the plan and apply roles, and (in the account Slipway runs
  # in) its service's task and execution roles, whose names fall under the managed prefixes.
  protected_role_arns = concat(
    ["arn:${local.partition}:iam::${local.account_id}:role/${var.plan_role_name}", "arn:${local.partition}:iam::${local.account_id}:role/${var.apply_role_name}"],
    [for pattern in var.protected_role_name_patterns : "arn:${local.partition}:iam::${local.account_id}:role/${pattern}"],
  )

  # The only policies the apply role may attach to a role: the project's own, and the AWS managed
  # policies the modules attach (EKS, CodeDeploy for ECS).
  attachable_policy_arns = concat(
    local.managed_policy_arns,
    [for name in var.attachable_aws_managed_policies : "arn:${local.partition}:iam::aws:policy/${name}"],
  )
}

# Only the Slipway service's role, presenting the external id, may assume either role.
data "aws_iam_policy_document" "trust" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "AWS"
      identifiers = var.trusted_role_arns
    }

    condition {
      test     = "StringEquals"
      variable = "sts:ExternalId"
      values   = [var.external_id]
    }
  }
}

# Both roles read the state, and hold state locks: the lock is an item written to and deleted
# from the lock table, even during a plan, and the only write the plan role makes.
data "aws_iam_policy_document" "state" {
  statement {
    sid       = "ListState"
    actions   = ["s3:ListBucket"]
    resources = local.state_bucket_arns
  }

  statement {
    sid       = "ReadState"
    actions   = ["s3:GetObject"]
    resources = [for bucket in local.state_bucket_arns : "${bucket}/*"]
  }

  statement {
    sid       = "LockState"
    actions   = ["dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"]
    resources = [local.lock_table_arn]
  }
}

# --- Permissions boundary ----------------------------------------------------------------------
# Every role the apply role creates must carry this boundary, so no such role can do more than it
# allows, whatever policies it is given: no IAM writes (so no role can grant itself or another
# more), and nothing in Organizations or the account settings. Its name is outside the managed
# prefixes: the apply role cannot edit it.

data "aws_iam_policy_document" "boundary" {
  statement {
    sid         = "Workloads"
    not_actions = ["iam:*", "organizations:*", "account:*"]
    resources   = ["*"]
  }

  statement {
    sid       = "ReadIam"
    actions   = ["iam:Get*", "iam:List*", "iam:CreateServiceLinkedRole"]
    resources = ["*"]
  }
}

resource "aws_iam_policy" "boundary" {
  name        = var.permissions_boundary_name
  description = "Permissions boundary of every role Slipway's apply role creates: no IAM writes"
  policy      = data.aws_iam_policy_document.boundary.json

  tags = var.tags
}

# --- Plan role: read-only ----------------------------------------------------------------------

# ReadOnlyAccess does not cover secret values, which Terraform reads to refresh the secret
# versions it manages; only the project's own secrets are readable. Nothing here writes, but the
# state lock (the state document's LockState, on the lock table alone).
data "aws_iam_policy_document" "plan" {
  source_policy_documents = [data.aws_iam_policy_document.state.json]

  statement {
    sid       = "RefreshProjectSecrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = local.managed_secret_arns
  }

  statement {
    sid       = "DecryptProjectSecrets"
    actions   = ["kms:Decrypt"]
    resources = ["*"]

    condition {
      test     = "StringLike"
      variable = "kms:ViaService"
      values   = ["secretsmanager.*.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "plan" {
  name                 = var.plan_role_name
  description          = "Slipway plans pull requests with this role: read-only, plus state locking"
  assume_role_policy   = data.aws_iam_policy_document.trust.json
  max_session_duration = var.max_session_duration_seconds

  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "plan_read_only" {
  role       = aws_iam_role.plan.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/ReadOnlyAccess"
}

resource "aws_iam_role_policy" "plan" {
  name   = "terraform-plan"
  role   = aws_iam_role.plan.id
  policy = data.aws_iam_policy_document.plan.json
}

# --- Apply role --------------------------------------------------------------------------------

# PowerUserAccess covers every service the modules use except IAM. IAM is granted only on the
# project's own roles and policies, and every role the apply role creates or gives permissions to
# must carry the permissions boundary, so it cannot make a role more powerful than the boundary
# (an AdministratorAccess role that trusts the apply role is refused). Slipway's own roles and the
# boundary itself are out of its reach.
data "aws_iam_policy_document" "apply" {
  source_policy_documents = [data.aws_iam_policy_document.state.json]

  statement {
    sid       = "WriteState"
    actions   = ["s3:PutObject"]
    resources = [for bucket in local.state_bucket_arns : "${bucket}/*"]
  }

  # The actions the iam:PermissionsBoundary condition key applies to: a role is created, and
  # given policies, only with the boundary on.
  statement {
    sid       = "CreateBoundedRoles"
    actions   = ["iam:CreateRole", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:DetachRolePolicy"]
    resources = local.managed_role_arns

    condition {
      test     = "StringEquals"
      variable = "iam:PermissionsBoundary"
      values   = [local.permissions_boundary_arn]
    }
  }

  statement {
    sid       = "AttachAllowedPolicies"
    actions   = ["iam:AttachRolePolicy"]
    resources = local.managed_role_arns

    condition {
      test     = "StringEquals"
      variable = "iam:PermissionsBoundary"
      values   = [local.permissions_boundary_arn]
    }

    condition {
      test     = "ArnLike"
      variable = "iam:PolicyARN"
      values   = local.attachable_policy_arns
    }
  }

  # Changes that give a role no permissions (the condition key is absent from these calls).
  statement {
    sid = "ManageProjectRoles"
    actions = [
      "iam:DeleteRole", "iam:UpdateRole", "iam:UpdateRoleDescription", "iam:UpdateAssumeRolePolicy",
      "iam:TagRole", "iam:UntagRole",
    ]
    resources = local.managed_role_arns
  }

  statement {
    sid       = "PassProjectRoles"
    actions   = ["iam:PassRole"]
    resources = local.managed_role_arns

    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = var.passable_to_services
    }
  }

  statement {
    sid = "ManageProjectPolicies"
    actions = [
      "iam:CreatePolicy", "iam:DeletePolicy", "iam:CreatePolicyVersion", "iam:DeletePolicyVersion",
      "iam:SetDefaultPolicyVersion", "iam:TagPolicy", "iam:UntagPolicy",
    ]
    resources = local.managed_policy_arns
  }

  statement {
    sid       = "CreateServiceLinkedRoles"
    actions   = ["iam:CreateServiceLinkedRole"]
    resources = ["arn:${local.partition}:iam::${local.account_id}:role/aws-service-role/*"]
  }

  # Reading IAM is part of every refresh.
  statement {
    sid       = "ReadIam"
    actions   = ["iam:Get*", "iam:List*"]
    resources = ["*"]
  }

  # Explicit denies win over every allow above and over PowerUserAccess.
  statement {
    sid         = "ProtectSlipwayAndTheBoundary"
    effect      = "Deny"
    not_actions = ["iam:Get*", "iam:List*"]
    resources   = concat(local.protected_role_arns, [local.permissions_boundary_arn])
  }

  statement {
    sid       = "KeepBoundaries"
    effect    = "Deny"
    actions   = ["iam:DeleteRolePermissionsBoundary"]
    resources = ["*"]
  }
}

resource "aws_iam_role" "apply" {
  name                 = var.apply_role_name
  description          = "Slipway applies merged changes with this role"
  assume_role_policy   = data.aws_iam_policy_document.trust.json
  max_session_duration = var.max_session_duration_seconds

  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "apply_power_user" {
  role       = aws_iam_role.apply.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/PowerUserAccess"
}

resource "aws_iam_role_policy" "apply" {
  name   = "terraform-apply"
  role   = aws_iam_role.apply.id
  policy = data.aws_iam_policy_document.apply.json
}
