data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition

  state_bucket_arn = "arn:${local.partition}:s3:::${var.state_bucket_name}"
  lock_table_arn   = "arn:${local.partition}:dynamodb:*:${local.account_id}:table/${var.lock_table_name}"

  managed_role_arns   = [for prefix in var.managed_name_prefixes : "arn:${local.partition}:iam::${local.account_id}:role/${prefix}*"]
  managed_policy_arns = [for prefix in var.managed_name_prefixes : "arn:${local.partition}:iam::${local.account_id}:policy/${prefix}*"]
  managed_secret_arns = [for prefix in var.managed_name_prefixes : "arn:${local.partition}:secretsmanager:*:${local.account_id}:secret:${prefix}*"]
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

# Both roles hold state locks, which are writes to the lock table even during a plan.
data "aws_iam_policy_document" "state" {
  statement {
    sid       = "ListState"
    actions   = ["s3:ListBucket"]
    resources = [local.state_bucket_arn]
  }

  statement {
    sid       = "ReadState"
    actions   = ["s3:GetObject"]
    resources = ["${local.state_bucket_arn}/*"]
  }

  statement {
    sid       = "LockState"
    actions   = ["dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"]
    resources = [local.lock_table_arn]
  }
}

# --- Plan role: read-only ----------------------------------------------------------------------

# ReadOnlyAccess does not cover secret values, which Terraform reads to refresh the secret
# versions it manages; only the project's own secrets are readable.
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
# project's own roles and policies, so the apply role cannot touch Slipway's roles or grant
# itself more.
data "aws_iam_policy_document" "apply" {
  source_policy_documents = [data.aws_iam_policy_document.state.json]

  statement {
    sid       = "WriteState"
    actions   = ["s3:PutObject"]
    resources = ["${local.state_bucket_arn}/*"]
  }

  statement {
    sid = "ManageProjectRoles"
    actions = [
      "iam:CreateRole", "iam:DeleteRole", "iam:UpdateRole", "iam:UpdateAssumeRolePolicy", "iam:TagRole", "iam:UntagRole",
      "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:PassRole",
    ]
    resources = local.managed_role_arns
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
