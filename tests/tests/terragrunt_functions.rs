//! Terraform's built-in functions in Terragrunt configurations, evaluated by Slipway through a
//! real unit's `inputs`, with the values Terraform's documentation gives; and every function of
//! Terraform 1.x is there.

use serde_json::{json, Value};
use slipway_tests::{config_json, unit, TempRepo};

const APP: &str = "live/app";
const APP_FILE: &str = "live/app/terragrunt.hcl";

/// The evaluated inputs of a lone unit `live/app` whose terragrunt.hcl is `hcl`.
fn inputs(hcl: &str) -> Value {
    let r = TempRepo::new();
    r.write_all(&[(APP_FILE, hcl)]);
    r.commit("infrastructure");
    let view = r.graph_at_head();
    config_json(unit(&view, APP))["inputs"].clone()
}

/// The inputs of a unit whose `inputs` block holds `attrs` (one `name = expression` a line).
fn eval_inputs(attrs: &str) -> Value {
    inputs(&format!("inputs = {{\n{attrs}\n}}\n"))
}

/// Asserts each input equals the expected value, naming the input that differs.
fn assert_inputs(got: &Value, expected: Value) {
    let Value::Object(expected) = expected else {
        panic!("expected values must be an object")
    };
    for (k, want) in expected {
        assert_eq!(got[&k], want, "input {k}");
    }
}

#[test]
fn base64_and_hash_functions_give_terraforms_values() {
    let got = eval_inputs(
        r#"
  b64e       = base64encode("Hello World")
  b64d       = base64decode("SGVsbG8gV29ybGQ=")
  b64gz      = substr(base64gzip("hello world"), 0, 4)
  b64sha256  = base64sha256("hello world")
  b64sha512  = base64sha512("hello world")
  md5        = md5("hello world")
  sha1       = sha1("hello world")
  sha256     = sha256("hello world")
  sha512     = sha512("hello world")
  bad_base64 = can(base64decode("not base64!"))
  not_utf8   = can(base64decode("/w=="))
"#,
    );
    assert_inputs(
        &got,
        json!({
            "b64e": "SGVsbG8gV29ybGQ=",
            "b64d": "Hello World",
            // Every gzip stream starts with the same header bytes.
            "b64gz": "H4sI",
            "b64sha256": "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=",
            "b64sha512": "MJ7MSJwS1utMxA9QyQLytNDtd+5RGnx6m808qG1M2G+YndNbxf9JlnDaNCVbRbDP2DDoH2Bdz33FVC6TrpzXbw==",
            "md5": "5eb63bbbe01eeed093cb22bb8f5acdc3",
            "sha1": "2aae6c35c94fcfb415dbe95f408b9ce91ee846ed",
            "sha256": "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9",
            "sha512": "309ecc489c12d6eb4cc40f50c902f2b4d0ed77ee511a7c7a9bcd3ca86d4cd86f989dd35bc5ff499670da34255b45b0cfd830e81f605dcf7dc5542e93ae9cd76f",
            "bad_base64": false,
            "not_utf8": false,
        }),
    );
}

#[test]
fn text_encodings_url_encoding_and_uuidv5() {
    let got = eval_inputs(
        r#"
  utf16le     = textencodebase64("Hello World", "UTF-16LE")
  back        = textdecodebase64("SABlAGwAbABvACAAVwBvAHIAbABkAA==", "UTF-16LE")
  utf8        = textencodebase64("☃", "utf-8")
  latin1      = textdecodebase64(textencodebase64("café", "ISO-8859-1"), "ISO-8859-1")
  not_latin1  = can(textencodebase64("☃", "ISO-8859-1"))
  unsupported = can(textencodebase64("x", "EBCDIC-XYZ"))
  url1        = urlencode("Hello World!")
  url2        = urlencode("☃")
  url3        = urlencode("foo:bar@localhost?foo=bar&bar=baz")
  dns         = uuidv5("dns", "www.terraform.io")
  url         = uuidv5("url", "https://www.terraform.io/")
  oid         = uuidv5("oid", "1.3.6.1.4")
  x500        = uuidv5("x500", "CN=Example,C=GB")
  custom      = uuidv5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "www.terraform.io")
  bad_ns      = can(uuidv5("nope", "x"))
"#,
    );
    assert_inputs(
        &got,
        json!({
            "utf16le": "SABlAGwAbABvACAAVwBvAHIAbABkAA==",
            "back": "Hello World",
            "utf8": "4piD",
            "latin1": "café",
            "not_latin1": false,
            "unsupported": false,
            "url1": "Hello+World%21",
            "url2": "%E2%98%83",
            "url3": "foo%3Abar%40localhost%3Ffoo%3Dbar%26bar%3Dbaz",
            "dns": "a5008fae-b28c-5ba5-96cd-82b4c53552d6",
            "url": "9db6f67c-dd95-5ea0-aa5b-e70e5c5f7cf5",
            "oid": "af9d40a5-7a36-5c07-b23a-851cd99fbfa5",
            "x500": "84e09961-4aa4-57f8-95b7-03edb1073253",
            "custom": "a5008fae-b28c-5ba5-96cd-82b4c53552d6",
            "bad_ns": false,
        }),
    );
}

#[test]
fn yamlencode_and_csvdecode() {
    let got = eval_inputs(
        r#"
  y1   = yamlencode({ a = "b", c = "d" })
  y2   = yamlencode({ foo = [1, 2, 3], bar = "baz" })
  y3   = yamlencode({ foo = [1, { a = "b", c = "d" }, 3], bar = "baz" })
  back = yamldecode(yamlencode({ list = ["x", 1, true, null], multi = "one\ntwo\n" }))
  csv  = csvdecode("a,b,c\n1,2,3\n4,5,6")
  bad  = can(csvdecode("a,b\n1,2,3\n"))
"#,
    );
    assert_inputs(
        &got,
        json!({
            "y1": "\"a\": \"b\"\n\"c\": \"d\"\n",
            "y2": "\"bar\": \"baz\"\n\"foo\":\n- 1\n- 2\n- 3\n",
            "y3": "\"bar\": \"baz\"\n\"foo\":\n- 1\n- \"a\": \"b\"\n  \"c\": \"d\"\n- 3\n",
            "back": {"list": ["x", 1, true, null], "multi": "one\ntwo\n"},
            "csv": [{"a": "1", "b": "2", "c": "3"}, {"a": "4", "b": "5", "c": "6"}],
            "bad": false,
        }),
    );
}

#[test]
fn date_and_time_functions() {
    let got = eval_inputs(
        r#"
  d1      = formatdate("DD MMM YYYY hh:mm ZZZ", "2018-01-02T23:12:01Z")
  d2      = formatdate("EEEE, DD-MMM-YY hh:mm:ss ZZZ", "2018-01-02T23:12:01Z")
  d3      = formatdate("EEE, DD MMM YYYY hh:mm:ss ZZZ", "2018-01-02T23:12:01-08:00")
  d4      = formatdate("MMM DD, YYYY", "2018-01-02T23:12:01Z")
  d5      = formatdate("HH:mmaa", "2018-01-02T23:12:01Z")
  d6      = formatdate("YYYY-MM-DD'T'hh:mm:ssZ '('ZZZZZ')' MMMM D, h 'o''clock'", "2018-01-02T03:04:05+05:30")
  bad_fmt = can(formatdate("YYY", "2018-01-02T23:12:01Z"))
  bad_ts  = can(formatdate("YYYY", "2018-01-02"))
  add1    = timeadd("2017-11-22T00:00:00Z", "10m")
  add2    = timeadd("2017-11-22T00:00:00Z", "-1h30m")
  add3    = timeadd("2017-11-22T00:00:00.5+01:00", "24h")
  cmp1    = timecmp("2017-11-22T00:00:00Z", "2017-11-22T00:00:00Z")
  cmp2    = timecmp("2017-11-22T00:00:00Z", "2017-11-22T01:00:00Z")
  cmp3    = timecmp("2017-11-22T01:00:00Z", "2017-11-22T00:00:00Z")
  cmp4    = timecmp("2017-11-22T01:00:00Z", "2017-11-22T00:00:00-01:00")
"#,
    );
    assert_inputs(
        &got,
        json!({
            "d1": "02 Jan 2018 23:12 UTC",
            "d2": "Tuesday, 02-Jan-18 23:12:01 UTC",
            "d3": "Tue, 02 Jan 2018 23:12:01 -0800",
            "d4": "Jan 02, 2018",
            "d5": "11:12pm",
            "d6": "2018-01-02T03:04:05+05:30 (+05:30) January 2, 3 o'clock",
            "bad_fmt": false,
            "bad_ts": false,
            "add1": "2017-11-22T00:10:00Z",
            "add2": "2017-11-21T22:30:00Z",
            "add3": "2017-11-23T00:00:00+01:00",
            "cmp1": 0,
            "cmp2": -1,
            "cmp3": 1,
            "cmp4": 0,
        }),
    );
}

#[test]
fn numeric_functions() {
    let got = eval_inputs(
        r#"
  p1      = parseint("100", 10)
  p2      = parseint("FF", 16)
  p3      = parseint("-10", 16)
  p4      = parseint("1011111011101111", 2)
  p5      = parseint("aA", 62)
  p_bad   = can(parseint("12", 2))
  p_base  = can(parseint("1", 63))
  pow1    = pow(3, 2)
  pow2    = pow(4, 0)
  log1    = log(50, 10)
  log2    = log(16, 2)
  log3    = log(1, 10)
  sig     = [signum(-13), signum(0), signum(344)]
  range1  = range(4, 1)
  range2  = range(10, 5, -2)
  range3  = range(1, 4, 0.5)
"#,
    );
    assert_inputs(
        &got,
        json!({
            "p1": 100, "p2": 255, "p3": -16, "p4": 48879, "p5": 656,
            "p_bad": false, "p_base": false,
            "pow1": 9, "pow2": 1,
            "log1": 1.6989700043360185, "log2": 4, "log3": 0,
            "sig": [-1, 0, 1],
            "range1": [4, 3, 2],
            "range2": [10, 8, 6],
            "range3": [1, 1.5, 2, 2.5, 3, 3.5],
        }),
    );
}

#[test]
fn string_functions() {
    let got = inputs(
        r#"
locals {
  tmpl = "Hello, $${name}! %%{ for n in nums }$${n}%%{ endfor }"
}
inputs = {
  fl1     = formatlist("Hello, %s!", ["Valentina", "Ander", "Olivia", "Sam"])
  fl2     = formatlist("%s, %s!", "Salutations", ["Valentina", "Ander", "Olivia", "Sam"])
  fl_bad  = can(formatlist("%s%s", ["a"], ["b", "c"]))
  ind     = indent(2, "[\n  foo,\n  bar,\n]\n")
  rev1    = strrev("hello")
  rev2    = strrev("a ☃")
  rev3    = strrev("ae\u0301")
  tpl     = templatestring(local.tmpl, { name = "Ander", nums = [1, 2] })
  tpl_fn  = templatestring("$${upper(x)}", { x = "up" })
  fmt     = format("%x|%05.1f|%-4s|%#v", 255, 3.14159, "ab", ["a"])
  coal    = coalesce(1, "a")
  coal2   = coalesce("", null, "b")
}
"#,
    );
    assert_inputs(
        &got,
        json!({
            "fl1": ["Hello, Valentina!", "Hello, Ander!", "Hello, Olivia!", "Hello, Sam!"],
            "fl2": ["Salutations, Valentina!", "Salutations, Ander!", "Salutations, Olivia!", "Salutations, Sam!"],
            "fl_bad": false,
            "ind": "[\n    foo,\n    bar,\n  ]\n  ",
            "rev1": "olleh",
            "rev2": "☃ a",
            "rev3": "e\u{301}a",
            "tpl": "Hello, Ander! 12",
            "tpl_fn": "UP",
            "fmt": "ff|003.1|ab  |[\"a\"]",
            "coal": "1",
            "coal2": "b",
        }),
    );
}

#[test]
fn collection_functions() {
    let got = eval_inputs(
        r#"
  chunks  = chunklist(["a", "b", "c", "d", "e"], 2)
  chunk1  = chunklist(["a", "b"], 1)
  chunk0  = chunklist(["a", "b"], 0)
  product = setproduct(["development", "staging", "production"], ["app1", "app2"])
  prod0   = setproduct(["a"], [])
  union   = setunion(["a", "b"], ["b", "c"], ["d"])
  inter   = setintersection(["a", "b"], ["b", "c"], ["b", "d"])
  sub     = setsubtract(["a", "b", "c"], ["a", "c"])
  toset   = toset(["c", "a", "b", "a"])
  trans   = transpose({ a = ["1", "2"], b = ["2", "3"] })
  match   = matchkeys(["i-123", "i-abc", "i-def"], ["us-west", "us-east", "us-east"], ["us-east"])
  all1    = alltrue(["true", true])
  all2    = alltrue([true, false])
  all3    = alltrue([])
  any1    = anytrue(["true"])
  any2    = anytrue([true, false])
  any3    = anytrue([])
  lookup  = lookup({ a = "ay" }, "c", "what?")
  element = element(["a", "b", "c"], 3)
"#,
    );
    assert_inputs(
        &got,
        json!({
            "chunks": [["a", "b"], ["c", "d"], ["e"]],
            "chunk1": [["a"], ["b"]],
            "chunk0": [["a", "b"]],
            "product": [
                ["development", "app1"], ["development", "app2"],
                ["staging", "app1"], ["staging", "app2"],
                ["production", "app1"], ["production", "app2"],
            ],
            "prod0": [],
            "union": ["a", "b", "c", "d"],
            "inter": ["b"],
            "sub": ["b"],
            "toset": ["a", "b", "c"],
            "trans": {"1": ["a"], "2": ["a", "b"], "3": ["b"]},
            "match": ["i-abc", "i-def"],
            "all1": true, "all2": false, "all3": true,
            "any1": true, "any2": true, "any3": false,
            "lookup": "what?",
            "element": "a",
        }),
    );
}

#[test]
fn network_functions() {
    let got = eval_inputs(
        r#"
  mask     = cidrnetmask("172.16.0.0/12")
  subnets  = cidrsubnets("10.1.0.0/16", 4, 4, 8, 4)
  subnets6 = cidrsubnets("fd00:fd12:3456:7890::/56", 16, 16, 16, 32)
  full     = can(cidrsubnets("10.0.0.0/30", 1, 1, 1))
  sub1     = cidrsubnet("172.16.0.0/12", 4, 2)
  sub2     = cidrsubnet("10.1.2.0/24", 4, 15)
  sub6     = cidrsubnet("fd00:fd12:3456:7890::/56", 16, 162)
  host1    = cidrhost("10.12.112.0/20", 16)
  host2    = cidrhost("10.12.112.0/20", 268)
  host6    = cidrhost("fd00:fd12:3456:7890:00a2::/72", 34)
  last     = cidrhost("10.0.0.0/24", -1)
  mask6    = can(cidrnetmask("fd00::/8"))
"#,
    );
    assert_inputs(
        &got,
        json!({
            "mask": "255.240.0.0",
            "subnets": ["10.1.0.0/20", "10.1.16.0/20", "10.1.32.0/24", "10.1.48.0/20"],
            "subnets6": [
                "fd00:fd12:3456:7800::/72",
                "fd00:fd12:3456:7800:100::/72",
                "fd00:fd12:3456:7800:200::/72",
                "fd00:fd12:3456:7800:300::/88",
            ],
            "full": false,
            "sub1": "172.18.0.0/16",
            "sub2": "10.1.2.240/28",
            "sub6": "fd00:fd12:3456:7800:a200::/72",
            "host1": "10.12.112.16",
            "host2": "10.12.113.12",
            "host6": "fd00:fd12:3456:7890::22",
            "last": "10.0.0.255",
            "mask6": false,
        }),
    );
}

#[test]
fn sensitivity_and_ephemerality_functions_keep_the_value() {
    let got = eval_inputs(
        r#"
  s   = sensitive("secret")
  n   = nonsensitive(sensitive("shown"))
  is  = issensitive("plain")
  eph = ephemeralasnull({ a = 1 })
  tilde_free = pathexpand("/etc/hosts")
"#,
    );
    assert_inputs(
        &got,
        json!({
            "s": "secret",
            "n": "shown",
            "is": false,
            "eph": {"a": 1},
            "tilde_free": "/etc/hosts",
        }),
    );
}

#[test]
fn a_unit_using_timestamp_uuid_or_bcrypt_in_its_inputs_is_still_listed() {
    let r = TempRepo::new();
    r.write_all(&[(
        APP_FILE,
        "inputs = {\n  at   = timestamp()\n  plan = plantimestamp()\n  id = uuid()\n  hash = bcrypt(\"hunter2\")\n  home = pathexpand(\"~/.ssh\")\n}\n",
    )]);
    r.commit("infrastructure");
    let view = r.graph_at_head();
    let u = unit(&view, APP);
    let text = serde_json::to_string(&config_json(u)).expect("json");
    assert!(
        !text.contains("hunter2"),
        "bcrypt's password leaked: {text}"
    );
}

/// Every function of Terraform 1.x that a configuration can call (not `type`, which only
/// `terraform console` has, nor the provider-defined ones).
const TERRAFORM_FUNCTIONS: &[&str] = &[
    // numeric
    "abs",
    "ceil",
    "floor",
    "log",
    "max",
    "min",
    "parseint",
    "pow",
    "signum",
    // string
    "chomp",
    "endswith",
    "format",
    "formatlist",
    "indent",
    "join",
    "lower",
    "regex",
    "regexall",
    "replace",
    "split",
    "startswith",
    "strcontains",
    "strrev",
    "substr",
    "templatestring",
    "title",
    "trim",
    "trimprefix",
    "trimsuffix",
    "trimspace",
    "upper",
    // collection
    "alltrue",
    "anytrue",
    "chunklist",
    "coalesce",
    "coalescelist",
    "compact",
    "concat",
    "contains",
    "distinct",
    "element",
    "flatten",
    "index",
    "keys",
    "length",
    "lookup",
    "matchkeys",
    "merge",
    "one",
    "range",
    "reverse",
    "setintersection",
    "setproduct",
    "setsubtract",
    "setunion",
    "slice",
    "sort",
    "sum",
    "transpose",
    "values",
    "zipmap",
    // encoding
    "base64decode",
    "base64encode",
    "base64gzip",
    "csvdecode",
    "jsondecode",
    "jsonencode",
    "textdecodebase64",
    "textencodebase64",
    "urlencode",
    "yamldecode",
    "yamlencode",
    // filesystem (those needing the repository are in FILE_FUNCTIONS)
    "abspath",
    "dirname",
    "pathexpand",
    "basename",
    "file",
    "fileexists",
    "templatefile",
    // date and time
    "formatdate",
    "plantimestamp",
    "timeadd",
    "timecmp",
    "timestamp",
    // hash and crypto
    "base64sha256",
    "base64sha512",
    "bcrypt",
    "md5",
    "rsadecrypt",
    "sha1",
    "sha256",
    "sha512",
    "uuid",
    "uuidv5",
    // IP network
    "cidrhost",
    "cidrnetmask",
    "cidrsubnet",
    "cidrsubnets",
    // type conversion
    "can",
    "ephemeralasnull",
    "issensitive",
    "nonsensitive",
    "sensitive",
    "tobool",
    "tolist",
    "tomap",
    "tonumber",
    "toset",
    "tostring",
    "try",
];

/// Terraform's functions of a file's contents, and `fileset`: they read the repository, so they
/// are registered with Terragrunt's own functions (agent/src/terragrunt/context.rs), over the
/// pure cores `funcs::file_function` and `funcs::fileset_match`.
const FILE_FUNCTIONS: &[&str] = &[
    "filebase64",
    "filebase64sha256",
    "filebase64sha512",
    "filemd5",
    "filesha1",
    "filesha256",
    "filesha512",
    "fileset",
];

/// The names of `functions` that evaluating a call to reports as undefined.
fn undefined(functions: &[&str]) -> Vec<String> {
    let r = TempRepo::new();
    for f in functions {
        r.write(
            &format!("live/{f}/terragrunt.hcl"),
            &format!("inputs = {{\n  x = {f}()\n}}\n"),
        );
    }
    r.commit("a unit calling each function");
    let view = r.graph_at_head();
    view.inventory
        .errors
        .iter()
        .filter(|e| e.to_string().contains("undefined function"))
        .map(|e| e.file.clone())
        .collect()
}

#[test]
fn every_terraform_function_is_defined() {
    assert_eq!(undefined(TERRAFORM_FUNCTIONS), Vec::<String>::new());
}

#[test]
fn every_terraform_file_function_is_defined() {
    assert_eq!(undefined(FILE_FUNCTIONS), Vec::<String>::new());
}

#[test]
fn an_undefined_function_is_reported_as_such() {
    assert_eq!(
        undefined(&["nosuchfunction"]),
        vec!["live/nosuchfunction/terragrunt.hcl".to_string()]
    );
}

/// Terragrunt's own functions, as its documentation lists them (and `deep_merge`, newer).
const TERRAGRUNT_FUNCTIONS: &[&str] = &[
    "find_in_parent_folders",
    "path_relative_to_include",
    "path_relative_from_include",
    "get_env",
    "get_platform",
    "get_repo_root",
    "get_path_from_repo_root",
    "get_path_to_repo_root",
    "get_terragrunt_dir",
    "get_working_dir",
    "get_parent_terragrunt_dir",
    "get_original_terragrunt_dir",
    "get_terraform_command",
    "get_terraform_cli_args",
    "get_default_retryable_errors",
    "get_aws_account_alias",
    "get_aws_account_id",
    "get_aws_caller_identity_arn",
    "get_aws_caller_identity_user_id",
    "get_terraform_commands_that_need_vars",
    "get_terraform_commands_that_need_input",
    "get_terraform_commands_that_need_locking",
    "get_terraform_commands_that_need_parallelism",
    "run_cmd",
    "read_terragrunt_config",
    "sops_decrypt_file",
    "get_terragrunt_source_cli_flag",
    "read_tfvars_file",
    "mark_as_read",
    "mark_glob_as_read",
    "constraint_check",
    "deep_merge",
];

#[test]
fn every_terragrunt_function_is_defined() {
    assert_eq!(undefined(TERRAGRUNT_FUNCTIONS), Vec::<String>::new());
}

#[test]
fn read_tfvars_file_gives_the_var_file_as_json_and_counts_it_as_read() {
    let r = TempRepo::with_files(&[
        (
            APP_FILE,
            r#"locals {
  common = jsondecode(read_tfvars_file("../common.tfvars"))
  extra  = jsondecode(read_tfvars_file("extra.tfvars.json"))
}
inputs = {
  raw    = read_tfvars_file("../common.tfvars")
  region = local.common.region
  zones  = local.common.zones
  tier   = local.extra.tier
  absent = read_tfvars_file("missing.tfvars")
}
"#,
        ),
        (
            "live/common.tfvars",
            "region = \"eu-west-1\"\nzones = [\"a\", \"b\"]\ntags = {\n  team = \"core\"\n  app = \"x\"\n}\n",
        ),
        ("live/app/extra.tfvars.json", "{\"tier\": \"web\"}\n"),
    ]);
    let view = r.graph_at_head();
    let app = unit(&view, APP);
    let got = config_json(app)["inputs"].clone();
    assert_inputs(
        &got,
        json!({
            // Keys in order, as Terragrunt's JSON encoding gives them.
            "raw": r#"{"region":"eu-west-1","tags":{"app":"x","team":"core"},"zones":["a","b"]}"#,
            "region": "eu-west-1",
            "zones": ["a", "b"],
            "tier": "web",
        }),
    );
    // A var file that is not in the repository is unknown during discovery.
    let absent = app.eval.as_ref().expect("evaluated").config["inputs"]
        .as_object()
        .and_then(|o| o.get("absent").cloned())
        .expect("absent");
    assert!(
        agent::terragrunt::unknown::is_unknown(&absent),
        "{absent:?}"
    );
    assert!(app.reads().contains_key("live/common.tfvars"));
    assert!(app.reads().contains_key("live/app/extra.tfvars.json"));
    assert!(app.deps.probes.contains("live/app/missing.tfvars"));
}

#[test]
fn mark_as_read_and_mark_glob_as_read_make_files_part_of_the_unit() {
    let r = TempRepo::with_files(&[
        (
            APP_FILE,
            r#"locals {
  marked = mark_as_read("../shared/policy.json")
  globbed = mark_glob_as_read("../shared/**/*.yaml")
}
inputs = {
  marked  = local.marked
  globbed = [for p in local.globbed : basename(p)]
}
"#,
        ),
        ("live/shared/policy.json", "{}\n"),
        ("live/shared/a/one.yaml", "a: 1\n"),
        ("live/shared/a/b/two.yaml", "b: 2\n"),
        ("live/shared/three.yaml", "c: 3\n"),
        ("live/shared/notes.txt", "-\n"),
    ]);
    let view = r.graph_at_head();
    let app = unit(&view, APP);
    assert_inputs(
        &config_json(app)["inputs"],
        json!({
            "marked": "../shared/policy.json",
            // `**/` needs a directory in between: three.yaml is not matched.
            "globbed": ["two.yaml", "one.yaml"],
        }),
    );
    for f in [
        "live/shared/policy.json",
        "live/shared/a/one.yaml",
        "live/shared/a/b/two.yaml",
    ] {
        assert!(app.reads().contains_key(f), "{f}: {:?}", app.reads());
    }
    assert!(!app.reads().contains_key("live/shared/three.yaml"));

    // A change to a marked file affects the unit.
    let base = r.commit("nothing");
    r.write("live/shared/a/one.yaml", "a: 2\n");
    r.commit("policy");
    let change = r.affected_since(&base, false);
    assert_eq!(
        change
            .units
            .iter()
            .map(|a| a.path.as_str())
            .collect::<Vec<_>>(),
        [APP]
    );
}

#[test]
fn terragrunts_other_functions_give_terragrunts_values() {
    let got = eval_inputs(
        r#"
  at_least       = constraint_check("1.5.7", ">= 1.3, < 2.0")
  pessimistic    = constraint_check("1.6.0", "~> 1.5.0")
  prerelease     = constraint_check("1.6.0-rc1", ">= 1.5")
  source_flag    = get_terragrunt_source_cli_flag()
  command        = get_terraform_command()
  retryable      = length(get_default_retryable_errors()) > 10
  retry_no_state = contains(get_default_retryable_errors(), "NoSuchBucket: The specified bucket does not exist")
  merged         = deep_merge({ a = { x = 1 }, l = [1] }, { a = { y = 2 }, l = [2], s = "b" })
"#,
    );
    assert_inputs(
        &got,
        json!({
            "at_least": true,
            "pessimistic": false,
            "prerelease": false,
            "source_flag": "",
            "command": "plan",
            "retryable": true,
            "retry_no_state": true,
            "merged": {"a": {"x": 1, "y": 2}, "l": [1, 2], "s": "b"},
        }),
    );
    let r = TempRepo::with_files(&[(APP_FILE, "inputs = {\n  wd = get_working_dir()\n}\n")]);
    let view = r.graph_at_head();
    let wd = unit(&view, APP).eval.as_ref().expect("evaluated").config["inputs"]
        .as_object()
        .and_then(|o| o.get("wd").cloned())
        .expect("wd");
    assert!(agent::terragrunt::unknown::is_unknown(&wd), "{wd:?}");
}
