//! The token-budget batcher of NER windows and RE inputs: rows longest first, so that the rows
//! of a batch have near-equal lengths and little padding, and as many rows per batch as fit the
//! budget of padded token slots (rows × longest row; at least one row).

/// Batches of row indices; `lens` are the rows' lengths in tokens, special tokens included.
pub fn batches(lens: &[usize], budget: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lens.len()).collect();
    order.sort_by_key(|&r| std::cmp::Reverse(lens[r]));
    let mut out = Vec::new();
    let mut i = 0;
    while i < order.len() {
        let cols = lens[order[i]].max(1);
        let per_batch = (budget / cols).max(1);
        let end = (i + per_batch).min(order.len());
        out.push(order[i..end].to_vec());
        i = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_first_within_budget() {
        let b = batches(&[3, 10, 5, 10, 4], 20);
        assert_eq!(b, [vec![1, 3], vec![2, 4, 0]]);
        // A row longer than the budget still gets a batch of its own.
        assert_eq!(batches(&[50, 2], 10), [vec![0], vec![1]]);
        assert!(batches(&[], 10).is_empty());
    }
}
