//! `slipway prices`: maintain the price book used for cost estimates.
//!
//! `slipway prices import OFFER.json [--out rules/prices/aws.json]` replaces one offer of the
//! book with the products Slipway prices from a real AWS Price List offer file (the
//! `index.json` of one service, e.g.
//! `https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/AmazonRDS/current/index.json`).
//! The file is streamed, so the multi-gigabyte EC2 offer works in little memory.

use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use rules::cost::PriceBook;

/// Arguments of `slipway prices`.
#[derive(Debug, clap::Args)]
pub struct PricesArgs {
    #[command(subcommand)]
    pub command: PricesCommand,
}

/// What to do with the price book.
#[derive(Debug, clap::Subcommand)]
pub enum PricesCommand {
    /// Rebuild one offer of the price book from an AWS Price List offer file.
    Import {
        /// The offer file (JSON, as downloaded from the AWS Price List bulk API).
        file: PathBuf,
        /// The price book to update: read if it exists (else Slipway's built-in book is the
        /// starting point), then rewritten.
        #[arg(long, default_value = "rules/prices/aws.json")]
        out: PathBuf,
    },
    /// Print a summary of the price book: offers, publication dates, product counts.
    Show {
        /// A price book file (default: Slipway's built-in book).
        #[arg(long)]
        book: Option<PathBuf>,
    },
}

pub fn run(args: PricesArgs) -> ExitCode {
    let result = match args.command {
        PricesCommand::Import { file, out } => import(&file, &out),
        PricesCommand::Show { book } => show(book.as_deref()),
    };
    match result {
        Ok(message) => {
            super::emitln(&message);
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("slipway prices: {message}");
            ExitCode::from(2)
        }
    }
}

fn load(path: &Path) -> Result<PriceBook, String> {
    let bytes = std::fs::read(path)
        .map_err(|e| format!("cannot read price book {}: {e}", path.display()))?;
    PriceBook::from_json(&bytes).map_err(|e| format!("{}: {e}", path.display()))
}

/// Imports `file` into the book at `out` and returns a one-line summary.
pub fn import(file: &Path, out: &Path) -> Result<String, String> {
    let mut book = if out.exists() {
        load(out)?
    } else {
        PriceBook::embedded().clone()
    };
    let reader = std::fs::File::open(file)
        .map_err(|e| format!("cannot read offer file {}: {e}", file.display()))?;
    let summary = book
        .import_offer(BufReader::with_capacity(1 << 20, reader))
        .map_err(|e| format!("{}: {e}", file.display()))?;
    // Write next to the target and rename, so a failure never leaves half a book behind.
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let tmp = dir.join(format!(
        ".{}.tmp",
        out.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "prices".to_string())
    ));
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(book.to_json().as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, out)
    };
    write().map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    Ok(format!("{summary}; wrote {}", out.display()))
}

fn show(path: Option<&Path>) -> Result<String, String> {
    let loaded;
    let book = match path {
        Some(p) => {
            loaded = load(p)?;
            &loaded
        }
        None => PriceBook::embedded(),
    };
    let mut lines = vec![format!("regions: {}", book.regions.join(", "))];
    for (code, offer) in &book.offers {
        lines.push(format!(
            "{code}: {} products, published {}",
            offer.products.len(),
            offer.publication_date.as_deref().unwrap_or("(no date)")
        ));
    }
    Ok(lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_rewrites_the_book_with_the_new_offer() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let out = dir.path().join("aws.json");
        let offer = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../rules/tests/fixtures/offers/AmazonRDS-excerpt.json");
        let message = import(&offer, &out).unwrap_or_else(|e| panic!("{e}"));
        assert!(message.contains("AmazonRDS: kept 2 products"), "{message}");
        let book = load(&out).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            book.offers.get("AmazonRDS").map(|o| o.products.len()),
            Some(2)
        );
        assert!(book.offers.contains_key("AmazonEC2"));
        // Importing again starts from the written book, not the built-in one: an offer removed
        // from the file stays removed.
        let mut trimmed = book.clone();
        trimmed.offers.remove("AmazonEKS");
        std::fs::write(&out, trimmed.to_json()).unwrap_or_else(|e| panic!("{e}"));
        assert!(import(&offer, &out).is_ok());
        let again = load(&out).unwrap_or_else(|e| panic!("{e}"));
        assert!(!again.offers.contains_key("AmazonEKS"));
        assert!(again.offers.contains_key("AmazonEC2"));
    }

    #[test]
    fn import_of_a_missing_file_names_it() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let e = import(
            Path::new("/nonexistent/offer.json"),
            &dir.path().join("aws.json"),
        );
        assert!(e
            .err()
            .unwrap_or_default()
            .contains("/nonexistent/offer.json"));
        assert!(!dir.path().join("aws.json").exists());
    }
}
