include "root" {
  path   = find_in_parent_folders()
  expose = true
}

terraform {
  source = "${get_repo_root()}/modules//app"
}

dependency "database" {
  config_path = "../database"
  mock_outputs = {
    endpoint = "db.mock.internal:3306"
  }
  mock_outputs_allowed_terraform_commands = ["plan", "validate"]
}

inputs = {
  image_tag         = "v1.4.0"
  replicas          = include.root.locals.env.locals.replicas
  database_endpoint = dependency.database.outputs.endpoint
}
