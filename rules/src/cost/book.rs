//! The price book: abridged AWS Price List bulk offer files, one per `offerCode`.
//!
//! The embedded book (`rules/prices/aws.json`) keeps, for each offer, the products Slipway
//! prices in the book's regions, in the offer file's own shape (`products{sku: {productFamily,
//! attributes}}`, `terms.OnDemand{sku: {offerTermCode: {priceDimensions: {rateCode: {unit,
//! pricePerUnit: {USD}}}}}}`). [`PriceBook::import_offer`] reads a real offer file (streaming,
//! so the multi-gigabyte EC2 file works) and replaces that offer in the book.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::io::Read;
use std::sync::OnceLock;

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

/// The book shipped with Slipway.
const EMBEDDED: &str = include_str!("../../prices/aws.json");

/// Why a price book or an offer file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PriceBookError {
    /// The JSON could not be read.
    #[error("not a valid {what} at line {line}, column {column}: {message}")]
    Json {
        /// "price book" or "AWS offer file".
        what: &'static str,
        /// Line (1-based).
        line: usize,
        /// Column (1-based).
        column: usize,
        /// What was wrong.
        message: String,
    },
    /// An offer file without an `offerCode`, or for a service Slipway does not price.
    #[error("{0}")]
    Offer(String),
}

/// A set of offers plus the regions they were filtered to.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PriceBook {
    /// Format marker of Slipway's book (1).
    #[serde(rename = "slipwayPriceBook")]
    pub slipway_price_book: u32,
    /// Where the prices come from.
    pub description: String,
    /// Region codes the book holds prices for.
    pub regions: Vec<String>,
    /// Offers by `offerCode` (e.g. `AmazonEC2`).
    pub offers: BTreeMap<String, Offer>,
    #[serde(skip)]
    index: HashMap<(String, String, String), Vec<String>>,
}

/// One (abridged) AWS Price List offer file.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Offer {
    /// Offer file format version, e.g. `v1.0`.
    #[serde(rename = "formatVersion", default)]
    pub format_version: String,
    /// AWS's disclaimer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disclaimer: Option<String>,
    /// Service code, e.g. `AmazonRDS`.
    #[serde(rename = "offerCode")]
    pub offer_code: String,
    /// Version of the offer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// When AWS published the offer.
    #[serde(
        rename = "publicationDate",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub publication_date: Option<String>,
    /// Products by SKU.
    #[serde(default)]
    pub products: BTreeMap<String, Product>,
    /// Prices.
    #[serde(default)]
    pub terms: Terms,
}

/// A product: what is sold.
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct Product {
    /// Stock keeping unit, the key joining products and terms.
    pub sku: String,
    /// E.g. `Compute Instance`, `Database Storage`.
    #[serde(rename = "productFamily", default)]
    pub product_family: String,
    /// E.g. `regionCode`, `instanceType`, `databaseEngine`, `deploymentOption`, `usagetype`.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

/// The offer's terms; only on-demand terms are kept.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Terms {
    /// On-demand terms by SKU, then by offer term code.
    #[serde(rename = "OnDemand", default)]
    pub on_demand: BTreeMap<String, BTreeMap<String, Term>>,
}

/// One term of a product.
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct Term {
    /// E.g. `JRTCKXETXF` (on demand).
    #[serde(rename = "offerTermCode", default)]
    pub offer_term_code: String,
    /// The product's SKU.
    #[serde(default)]
    pub sku: String,
    /// When the price took effect.
    #[serde(
        rename = "effectiveDate",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub effective_date: Option<String>,
    /// Prices by rate code.
    #[serde(rename = "priceDimensions", default)]
    pub price_dimensions: BTreeMap<String, PriceDimension>,
}

/// One price.
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct PriceDimension {
    /// Rate code.
    #[serde(rename = "rateCode", default)]
    pub rate_code: String,
    /// Human description.
    #[serde(default)]
    pub description: String,
    /// Unit, e.g. `Hrs`, `GB-Mo`, `IOPS-Mo`, `Requests`.
    #[serde(default)]
    pub unit: String,
    /// First unit of a tier ("0" for the first tier).
    #[serde(
        rename = "beginRange",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub begin_range: Option<String>,
    /// Last unit of a tier ("Inf" for the last).
    #[serde(rename = "endRange", default, skip_serializing_if = "Option::is_none")]
    pub end_range: Option<String>,
    /// Price per unit by currency (`USD`), as a decimal string.
    #[serde(rename = "pricePerUnit", default)]
    pub price_per_unit: BTreeMap<String, String>,
}

/// A product price found in the book.
#[derive(Debug, Clone, PartialEq)]
pub struct Price {
    /// USD per unit.
    pub usd: f64,
    /// The unit as the offer file writes it.
    pub unit: String,
    /// The product's SKU, for traceability.
    pub sku: String,
}

/// What to look up: an offer, a product family, a region and attribute values.
#[derive(Debug, Clone, Copy)]
pub struct Query<'a> {
    /// `offerCode`, e.g. `AmazonRDS`.
    pub offer: &'a str,
    /// `productFamily`.
    pub family: &'a str,
    /// `regionCode`, None for global services (Route 53).
    pub region: Option<&'a str>,
    /// Attribute values that must match. `usagetype` matches without its region prefix
    /// (`USE1-NatGateway-Hours` matches `NatGateway-Hours`).
    pub attrs: &'a [(&'a str, &'a str)],
}

/// A kind of product Slipway prices: import keeps only products matching one of these.
struct Selector {
    offer: &'static str,
    family: &'static str,
    /// Attribute name and accepted values.
    attrs: &'static [(&'static str, &'static [&'static str])],
}

const SELECTORS: &[Selector] = &[
    Selector {
        offer: "AmazonEC2",
        family: "Compute Instance",
        attrs: &[
            ("operatingSystem", &["Linux"]),
            ("tenancy", &["Shared"]),
            ("preInstalledSw", &["NA"]),
            ("capacitystatus", &["Used"]),
            ("licenseModel", &["No License required"]),
        ],
    },
    Selector {
        offer: "AmazonEC2",
        family: "Storage",
        attrs: &[],
    },
    Selector {
        offer: "AmazonEC2",
        family: "System Operation",
        attrs: &[("group", &["EBS IOPS"])],
    },
    Selector {
        offer: "AmazonEC2",
        family: "Provisioned Throughput",
        attrs: &[],
    },
    Selector {
        offer: "AmazonEC2",
        family: "NAT Gateway",
        attrs: &[],
    },
    Selector {
        offer: "AmazonVPC",
        family: "VPC Public IPv4 Address",
        attrs: &[],
    },
    Selector {
        offer: "AWSELB",
        family: "Load Balancer-Application",
        attrs: &[],
    },
    Selector {
        offer: "AWSELB",
        family: "Load Balancer-Network",
        attrs: &[],
    },
    Selector {
        offer: "AmazonRDS",
        family: "Database Instance",
        attrs: &[
            (
                "databaseEngine",
                &[
                    "MySQL",
                    "MariaDB",
                    "PostgreSQL",
                    "Aurora MySQL",
                    "Aurora PostgreSQL",
                ],
            ),
            ("deploymentOption", &["Single-AZ", "Multi-AZ"]),
        ],
    },
    Selector {
        offer: "AmazonRDS",
        family: "Database Storage",
        attrs: &[("deploymentOption", &["Single-AZ", "Multi-AZ"])],
    },
    Selector {
        offer: "AmazonRDS",
        family: "Provisioned IOPS",
        attrs: &[("deploymentOption", &["Single-AZ", "Multi-AZ"])],
    },
    Selector {
        offer: "AmazonRDS",
        family: "System Operation",
        attrs: &[("group", &["Aurora I/O Operation"])],
    },
    Selector {
        offer: "AmazonCloudWatch",
        family: "Data Payload",
        attrs: &[],
    },
    Selector {
        offer: "AmazonCloudWatch",
        family: "Storage Snapshot",
        attrs: &[],
    },
    Selector {
        offer: "AmazonEKS",
        family: "Compute",
        attrs: &[],
    },
    Selector {
        offer: "AmazonECS",
        family: "Compute",
        attrs: &[],
    },
    Selector {
        offer: "AWSLambda",
        family: "Serverless",
        attrs: &[],
    },
    Selector {
        offer: "AmazonRoute53",
        family: "DNS Zone",
        attrs: &[],
    },
];

/// Region names as older offer files write them in `location` (no `regionCode`).
const LOCATIONS: &[(&str, &str)] = &[
    ("US East (N. Virginia)", "us-east-1"),
    ("US East (Ohio)", "us-east-2"),
    ("US West (N. California)", "us-west-1"),
    ("US West (Oregon)", "us-west-2"),
    ("EU (Ireland)", "eu-west-1"),
    ("EU (Frankfurt)", "eu-central-1"),
];

fn region_of(p: &Product) -> Option<&str> {
    if let Some(r) = p.attributes.get("regionCode") {
        return Some(r);
    }
    let loc = p.attributes.get("location")?;
    LOCATIONS
        .iter()
        .find(|(name, _)| name == loc)
        .map(|(_, code)| *code)
}

fn is_global(p: &Product) -> bool {
    !p.attributes.contains_key("regionCode")
        && p.attributes
            .get("location")
            .is_none_or(|l| l == "Global" || l == "Any")
}

/// `USE1-NatGateway-Hours` -> `NatGateway-Hours`; a usage type without a region prefix as is.
fn strip_region_prefix(usagetype: &str) -> &str {
    if let Some((head, rest)) = usagetype.split_once('-') {
        let looks_regional = (3..=5).contains(&head.len())
            && head
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            && head.chars().any(|c| c.is_ascii_digit());
        if looks_regional {
            return rest;
        }
    }
    usagetype
}

fn attr_matches(p: &Product, name: &str, want: &str) -> bool {
    match p.attributes.get(name) {
        Some(v) if name == "usagetype" => strip_region_prefix(v) == want,
        Some(v) => v == want,
        None => false,
    }
}

impl PriceBook {
    /// The book shipped with Slipway (parsed once).
    pub fn embedded() -> &'static PriceBook {
        static BOOK: OnceLock<PriceBook> = OnceLock::new();
        BOOK.get_or_init(|| {
            // The embedded file is checked by the tests; an empty book would price nothing,
            // which the report shows as unpriced rather than as zero.
            PriceBook::from_json(EMBEDDED.as_bytes()).unwrap_or_else(|_| PriceBook::empty())
        })
    }

    /// A book with no offers.
    pub fn empty() -> PriceBook {
        PriceBook {
            slipway_price_book: 1,
            description: String::new(),
            regions: Vec::new(),
            offers: BTreeMap::new(),
            index: HashMap::new(),
        }
    }

    /// Reads a book written by [`PriceBook::to_json`].
    pub fn from_json(bytes: &[u8]) -> Result<PriceBook, PriceBookError> {
        let mut book: PriceBook =
            serde_json::from_slice(bytes).map_err(|e| PriceBookError::Json {
                what: "price book",
                line: e.line(),
                column: e.column(),
                message: without_position(&e.to_string()),
            })?;
        book.reindex();
        Ok(book)
    }

    /// The book as pretty JSON, stable across runs (sorted keys).
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }

    fn reindex(&mut self) {
        self.index.clear();
        for (code, offer) in &self.offers {
            for (sku, p) in &offer.products {
                let region = region_of(p).unwrap_or("").to_string();
                self.index
                    .entry((code.clone(), region, p.product_family.clone()))
                    .or_default()
                    .push(sku.clone());
            }
        }
    }

    /// The first-tier on-demand USD price of the product matching the query.
    pub fn lookup(&self, q: &Query<'_>) -> Option<Price> {
        let offer = self.offers.get(q.offer)?;
        let key = (
            q.offer.to_string(),
            q.region.unwrap_or("").to_string(),
            q.family.to_string(),
        );
        let skus = self.index.get(&key)?;
        skus.iter().find_map(|sku| {
            let p = offer.products.get(sku)?;
            if !q.attrs.iter().all(|(k, v)| attr_matches(p, k, v)) {
                return None;
            }
            first_tier(offer.terms.on_demand.get(sku)?, sku)
        })
    }

    /// Replaces (or adds) one offer from a real AWS Price List offer file, keeping only the
    /// products Slipway prices in this book's regions. Returns what was kept.
    pub fn import_offer<R: Read>(&mut self, reader: R) -> Result<ImportSummary, PriceBookError> {
        let regions: BTreeSet<String> = self.regions.iter().cloned().collect();
        let mut de = serde_json::Deserializer::from_reader(reader);
        let offer = ImportSeed { regions: &regions }
            .deserialize(&mut de)
            .and_then(|o| de.end().map(|()| o))
            .map_err(|e| PriceBookError::Json {
                what: "AWS offer file",
                line: e.line(),
                column: e.column(),
                message: without_position(&e.to_string()),
            })?;
        if offer.offer_code.is_empty() {
            return Err(PriceBookError::Offer(
                "the file has no `offerCode`: is it an AWS Price List offer file (index.json of one service)?"
                    .to_string(),
            ));
        }
        if !SELECTORS.iter().any(|s| s.offer == offer.offer_code) {
            let known: BTreeSet<&str> = SELECTORS.iter().map(|s| s.offer).collect();
            return Err(PriceBookError::Offer(format!(
                "Slipway prices nothing from offer `{}`; offers it uses: {}",
                offer.offer_code,
                known.into_iter().collect::<Vec<_>>().join(", ")
            )));
        }
        let summary = ImportSummary {
            offer_code: offer.offer_code.clone(),
            products: offer.products.len(),
            priced: offer.terms.on_demand.len(),
            publication_date: offer.publication_date.clone(),
        };
        self.offers.insert(offer.offer_code.clone(), offer);
        self.reindex();
        Ok(summary)
    }
}

/// serde_json appends " at line L column C"; the error carries those separately.
fn without_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

fn first_tier(terms: &BTreeMap<String, Term>, sku: &str) -> Option<Price> {
    let term = terms.values().next()?;
    let dim = term
        .price_dimensions
        .values()
        .min_by(|a, b| range_start(a).total_cmp(&range_start(b)))?;
    let usd = dim.price_per_unit.get("USD")?.trim().parse::<f64>().ok()?;
    Some(Price {
        usd,
        unit: dim.unit.clone(),
        sku: sku.to_string(),
    })
}

fn range_start(d: &PriceDimension) -> f64 {
    d.begin_range
        .as_deref()
        .and_then(|b| b.parse::<f64>().ok())
        .unwrap_or(0.0)
}

/// What an import kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    /// The offer replaced.
    pub offer_code: String,
    /// Products kept.
    pub products: usize,
    /// Products with an on-demand price.
    pub priced: usize,
    /// The offer's publication date.
    pub publication_date: Option<String>,
}

impl fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: kept {} products ({} with an on-demand price), published {}",
            self.offer_code,
            self.products,
            self.priced,
            self.publication_date.as_deref().unwrap_or("(no date)")
        )
    }
}

fn wanted(offer: &str, regions: &BTreeSet<String>, p: &Product) -> bool {
    let in_region = match region_of(p) {
        Some(r) => regions.contains(r),
        None => is_global(p),
    };
    let not_outpost = p
        .attributes
        .get("locationType")
        .is_none_or(|t| t == "AWS Region" || t == "Other");
    in_region
        && not_outpost
        && SELECTORS.iter().any(|s| {
            s.offer == offer
                && s.family == p.product_family
                && s.attrs.iter().all(|(k, vs)| {
                    p.attributes
                        .get(*k)
                        .is_some_and(|v| vs.contains(&v.as_str()))
                })
        })
}

// Streaming import: an offer file is read entry by entry and only wanted products are kept.

struct ImportSeed<'a> {
    regions: &'a BTreeSet<String>,
}

impl<'de> DeserializeSeed<'de> for ImportSeed<'_> {
    type Value = Offer;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Offer, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ImportSeed<'_> {
    type Value = Offer;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an AWS Price List offer file (a JSON object with offerCode, products, terms)")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Offer, A::Error> {
        let mut offer = Offer::default();
        // Products seen before the offerCode cannot be filtered by offer: filter them at the end.
        let mut kept: Option<BTreeSet<String>> = None;
        let mut raw_terms: Option<BTreeMap<String, BTreeMap<String, Term>>> = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "formatVersion" => offer.format_version = map.next_value()?,
                "disclaimer" => offer.disclaimer = map.next_value()?,
                "offerCode" => offer.offer_code = map.next_value()?,
                "version" => offer.version = map.next_value()?,
                "publicationDate" => offer.publication_date = map.next_value()?,
                "products" => {
                    let products = map.next_value_seed(ProductsSeed {
                        offer: &offer.offer_code,
                        regions: self.regions,
                    })?;
                    kept = Some(products.keys().cloned().collect());
                    offer.products = products;
                }
                "terms" => {
                    let terms = map.next_value_seed(TermsSeed {
                        kept: kept.as_ref(),
                    })?;
                    raw_terms = Some(terms);
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let code = offer.offer_code.clone();
        offer.products.retain(|_, p| wanted(&code, self.regions, p));
        let mut on_demand = raw_terms.unwrap_or_default();
        on_demand.retain(|sku, _| offer.products.contains_key(sku));
        offer.terms.on_demand = on_demand;
        Ok(offer)
    }
}

struct ProductsSeed<'a> {
    offer: &'a str,
    regions: &'a BTreeSet<String>,
}

impl<'de> DeserializeSeed<'de> for ProductsSeed<'_> {
    type Value = BTreeMap<String, Product>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ProductsSeed<'_> {
    type Value = BTreeMap<String, Product>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("products by SKU")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = BTreeMap::new();
        while let Some((sku, product)) = map.next_entry::<String, Product>()? {
            // Without an offerCode yet, keep by region only; the final pass filters by selector.
            let keep = if self.offer.is_empty() {
                match region_of(&product) {
                    Some(r) => self.regions.contains(r),
                    None => is_global(&product),
                }
            } else {
                wanted(self.offer, self.regions, &product)
            };
            if keep {
                out.insert(sku, product);
            }
        }
        Ok(out)
    }
}

struct TermsSeed<'a> {
    kept: Option<&'a BTreeSet<String>>,
}

impl<'de> DeserializeSeed<'de> for TermsSeed<'_> {
    type Value = BTreeMap<String, BTreeMap<String, Term>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for TermsSeed<'_> {
    type Value = BTreeMap<String, BTreeMap<String, Term>>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("terms by term type")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = BTreeMap::new();
        while let Some(kind) = map.next_key::<String>()? {
            if kind == "OnDemand" {
                out = map.next_value_seed(OnDemandSeed { kept: self.kept })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(out)
    }
}

struct OnDemandSeed<'a> {
    kept: Option<&'a BTreeSet<String>>,
}

impl<'de> DeserializeSeed<'de> for OnDemandSeed<'_> {
    type Value = BTreeMap<String, BTreeMap<String, Term>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for OnDemandSeed<'_> {
    type Value = BTreeMap<String, BTreeMap<String, Term>>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("on-demand terms by SKU")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = BTreeMap::new();
        while let Some(sku) = map.next_key::<String>()? {
            if self.kept.is_none_or(|k| k.contains(&sku)) {
                let terms: BTreeMap<String, Term> = map.next_value()?;
                out.insert(sku, terms);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(out)
    }
}
