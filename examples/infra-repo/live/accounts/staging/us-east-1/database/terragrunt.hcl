include "root" {
  path   = find_in_parent_folders()
  expose = true
}

terraform {
  source = "${get_repo_root()}/modules//database"
}

inputs = {
  instance_class = include.root.locals.env.locals.instance_class
  storage_gb     = include.root.locals.env.locals.storage_gb
}
