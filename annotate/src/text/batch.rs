//! The token-budget batcher of NER windows and RE inputs: rows longest first, so that the rows
//! of a batch have near-equal lengths and little padding, and as many rows per batch as fit the
//! budget of padded token slots (rows × longest row; at least one row).

/// Batches of row indices; `lens` are the rows' lengths in tokens, special tokens included.
pub fn batches(lens: &[usize], budget: usize) -> Vec<Vec<usize>> {
    batches_within(lens, budget, 1.0)
}

/// As [`batches`], and a row joins a batch only when padding it to the batch's longest row
/// costs at most `max_padding` of its slots (0.1: rows of 512 and 461 tokens share a batch, 512
/// and 460 do not): the batch's padding is then at most that share too. Rows of a few documents
/// vary in length from a title to a full window, so without the cap a batch of many short rows
/// is padded to its one long row; with it, such rows start a batch of their own.
pub fn batches_within(lens: &[usize], budget: usize, max_padding: f64) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lens.len()).collect();
    order.sort_by_key(|&r| std::cmp::Reverse(lens[r]));
    let mut out = Vec::new();
    let mut i = 0;
    while i < order.len() {
        let cols = lens[order[i]].max(1);
        let per_batch = (budget / cols).max(1);
        let least = cols as f64 * (1.0 - max_padding.clamp(0.0, 1.0));
        let mut end = i + 1;
        while end < order.len() && end - i < per_batch && lens[order[end]] as f64 >= least {
            end += 1;
        }
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

    #[test]
    fn padding_is_capped() {
        let lens = [100, 95, 90, 89, 50, 46, 10];
        // 10%: 95 and 90 may pad to 100, 89 may not
        assert_eq!(
            batches_within(&lens, 1000, 0.1),
            [vec![0, 1, 2], vec![3], vec![4, 5], vec![6]]
        );
        // the budget still holds; the cap is relative to each batch's longest row
        assert_eq!(
            batches_within(&lens, 200, 0.1),
            [vec![0, 1], vec![2, 3], vec![4, 5], vec![6]]
        );
        // no cap: the token budget alone, as batches() does
        assert_eq!(batches_within(&lens, 1000, 1.0), batches(&lens, 1000));
        assert_eq!(batches(&lens, 1000), [(0..7).collect::<Vec<_>>()]);
    }
}
