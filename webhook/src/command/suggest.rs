//! The nearest valid name to a mistyped one, by edit distance.

/// The candidate nearest to `given` (Levenshtein distance over chars), when it is close enough:
/// at most `max(2, len / 3)` edits and fewer edits than `given` has characters, so a one- or
/// two-letter word is not "corrected" into an unrelated name. Ties go to the first candidate.
pub(crate) fn nearest<'a>(
    given: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let given: Vec<char> = given.chars().collect();
    let bound = (given.len() / 3).max(2).min(given.len().saturating_sub(1));
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        let limit = best.map_or(bound, |(d, _)| d.saturating_sub(1));
        if let Some(d) = distance(&given, candidate, limit) {
            if best.is_none_or(|(b, _)| d < b) {
                best = Some((d, candidate));
            }
        }
    }
    best.map(|(_, candidate)| candidate)
}

/// The Levenshtein distance between `a` and `b` when it is at most `limit`, else `None`.
/// Stops as soon as every cell of a row exceeds the limit.
fn distance(a: &[char], b: &str, limit: usize) -> Option<usize> {
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > limit {
        return None;
    }
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, &ca) in a.iter().enumerate() {
        current[0] = i + 1;
        let mut row_min = current[0];
        for (j, &cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            let cell = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
            current[j + 1] = cell;
            row_min = row_min.min(cell);
        }
        if row_min > limit {
            return None;
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous.last().copied().filter(|&d| d <= limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lev(a: &str, b: &str) -> Option<usize> {
        distance(&a.chars().collect::<Vec<_>>(), b, usize::MAX)
    }

    #[test]
    fn distance_counts_insertions_deletions_and_substitutions() {
        assert_eq!(lev("aply", "apply"), Some(1));
        assert_eq!(lev("prdo", "prod"), Some(2));
        assert_eq!(lev("kitten", "sitting"), Some(3));
        assert_eq!(lev("", "plan"), Some(4));
        assert_eq!(lev("ünlock", "unlock"), Some(1));
    }

    #[test]
    fn nearest_suggests_only_close_names() {
        let names = ["plan", "apply", "unlock", "cancel", "help"];
        assert_eq!(nearest("aply", names), Some("apply"));
        assert_eq!(nearest("hepl", names), Some("help"));
        assert_eq!(nearest("unlcok", names), Some("unlock"));
        assert_eq!(nearest("deploy", names), None);
        assert_eq!(nearest("x", names), None);
        assert_eq!(nearest("tmp", names), None);
    }

    #[test]
    fn the_bound_grows_with_the_length_of_what_was_typed() {
        let units = ["live/prod/eu-west-1/network/vpc"];
        assert_eq!(
            nearest("live/prod/eu-west1/netwrk/vcp", units),
            Some(units[0])
        );
        assert_eq!(nearest("live/dev/vpc", units), None);
    }
}
