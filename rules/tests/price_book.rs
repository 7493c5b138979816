//! The price book: the embedded data file, and rebuilding an offer from an AWS offer file.

mod common;

use common::*;
use rules::config::PolicyConfig;
use rules::cost::{self, PriceBook, Query};

fn rds_micro_mysql(book: &PriceBook, region: &str) -> Option<f64> {
    book.lookup(&Query {
        offer: "AmazonRDS",
        family: "Database Instance",
        region: Some(region),
        attrs: &[
            ("instanceType", "db.t3.micro"),
            ("databaseEngine", "MySQL"),
            ("deploymentOption", "Single-AZ"),
        ],
    })
    .map(|p| p.usd)
}

#[test]
fn embedded_book_covers_both_regions_for_every_offer_slipway_uses() {
    let book = PriceBook::embedded();
    assert_eq!(book.regions, ["us-east-1", "us-west-2"]);
    for offer in [
        "AmazonEC2",
        "AmazonRDS",
        "AmazonVPC",
        "AWSELB",
        "AmazonCloudWatch",
        "AmazonEKS",
        "AmazonECS",
        "AWSLambda",
        "AmazonRoute53",
    ] {
        let o = book.offers.get(offer);
        assert!(o.is_some_and(|o| !o.products.is_empty()), "{offer} missing");
    }
    assert_eq!(rds_micro_mysql(book, "us-east-1"), Some(0.017));
    assert_eq!(rds_micro_mysql(book, "us-west-2"), Some(0.017));
    assert_eq!(rds_micro_mysql(book, "eu-west-1"), None);
}

#[test]
fn embedded_book_round_trips_through_its_own_format() {
    let book = PriceBook::embedded();
    let again = PriceBook::from_json(book.to_json().as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again.offers.len(), book.offers.len());
    assert_eq!(rds_micro_mysql(&again, "us-east-1"), Some(0.017));
}

#[test]
fn importing_an_offer_file_replaces_that_offer_and_keeps_only_what_slipway_prices() {
    let mut book = PriceBook::embedded().clone();
    let file = fixture("offers/AmazonRDS-excerpt.json");
    let summary = book
        .import_offer(file.as_slice())
        .unwrap_or_else(|e| panic!("{e}"));
    // kept: the us-east-1 MySQL instance and gp3 storage; dropped: eu-west-1 (not in the
    // book's regions), Oracle BYOL (not priced), an Outposts product; reserved terms ignored
    assert_eq!(summary.offer_code, "AmazonRDS");
    assert_eq!((summary.products, summary.priced), (2, 2));
    assert_eq!(
        summary.publication_date.as_deref(),
        Some("2025-07-01T00:00:00Z")
    );
    assert_eq!(rds_micro_mysql(&book, "us-east-1"), Some(0.02));
    // The whole AmazonRDS offer was replaced: us-west-2 prices came only from the old offer.
    assert_eq!(rds_micro_mysql(&book, "us-west-2"), None);
    let rds = book.offers.get("AmazonRDS");
    assert!(rds.is_some_and(|o| o.terms.on_demand.len() == 2));
    // Other offers are untouched.
    assert!(book
        .offers
        .get("AmazonEC2")
        .is_some_and(|o| !o.products.is_empty()));
}

#[test]
fn estimates_use_the_imported_prices() {
    let mut book = PriceBook::embedded().clone();
    book.import_offer(fixture("offers/AmazonRDS-excerpt.json").as_slice())
        .unwrap_or_else(|e| panic!("{e}"));
    let json = br#"{"format_version": "1.2", "resource_changes": [{"address": "aws_db_instance.a",
        "mode": "managed", "type": "aws_db_instance", "name": "a",
        "provider_name": "registry.terraform.io/hashicorp/aws",
        "change": {"actions": ["create"], "before": null,
          "after": {"engine": "mysql", "instance_class": "db.t3.micro", "allocated_storage": 20,
                    "storage_type": "gp3", "multi_az": false},
          "after_unknown": {"id": true}, "before_sensitive": false, "after_sensitive": {}}}]}"#;
    let plan = rules::Plan::parse(json).unwrap_or_else(|e| panic!("{e}"));
    let c = cost::estimate_with(&plan, Some("us-east-1"), &PolicyConfig::default(), &book);
    // db.t3.micro at $0.02/h + 20 GB gp3 at $0.125 = 14.60 + 2.50
    assert_eq!(c.monthly_after, 17.1);
    // db.t3.small is not in the excerpt: that database is unpriced, not counted as zero.
    let c = cost::estimate_with(&aws_plan("1.2"), None, &PolicyConfig::default(), &book);
    assert!(!c
        .lines
        .iter()
        .any(|l| l.address == "module.database.aws_db_instance.main"));
    assert!(c.unpriced.iter().any(|u| {
        u.address == "module.database.aws_db_instance.main" && u.reason.contains("db.t3.small")
    }));
}

#[test]
fn a_file_that_is_not_an_offer_is_refused() {
    let mut book = PriceBook::embedded().clone();
    let e = book
        .import_offer(&br#"{"hello": 1}"#[..])
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("offerCode"), "{e}");
    let e = book
        .import_offer(&br#"{"offerCode": "AmazonS3", "products": {}, "terms": {}}"#[..])
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("AmazonS3") && e.contains("AmazonRDS"), "{e}");
    let e = book
        .import_offer(&b"{\"offerCode\": "[..])
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("line 1"), "{e}");
}
