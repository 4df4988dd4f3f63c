//! Python's index and slice rules, shared by lists and arrays.

/// The position `index` names in a sequence of `len` items: negative
/// indices count from the end. `None` if it is outside.
pub fn resolve_index(index: i64, len: usize) -> Option<usize> {
    let len = i64::try_from(len).ok()?;
    let i = if index < 0 { index + len } else { index };
    (0..len).contains(&i).then_some(i as usize)
}

/// The range `seq[start:stop]` covers in a sequence of `len` items, clamped
/// as Python clamps slices: never an error, possibly empty.
pub fn slice_range(start: Option<i64>, stop: Option<i64>, len: usize) -> std::ops::Range<usize> {
    let clamp = |i: i64| -> usize {
        let len = len as i64;
        let i = if i < 0 { (i + len).max(0) } else { i.min(len) };
        i as usize
    };
    let start = start.map_or(0, clamp);
    let stop = stop.map_or(len, clamp);
    start..stop.max(start)
}

/// Where `list.insert(index, x)` puts `x` in a list of `len` items.
pub fn insert_position(index: i64, len: usize) -> usize {
    let len_i = len as i64;
    let i = if index < 0 {
        (index + len_i).max(0)
    } else {
        index.min(len_i)
    };
    i as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_follow_python() {
        assert_eq!(resolve_index(0, 3), Some(0));
        assert_eq!(resolve_index(-1, 3), Some(2));
        assert_eq!(resolve_index(-3, 3), Some(0));
        assert_eq!(resolve_index(-4, 3), None);
        assert_eq!(resolve_index(3, 3), None);
        assert_eq!(resolve_index(0, 0), None);
    }

    #[test]
    fn slices_follow_python() {
        assert_eq!(slice_range(None, None, 5), 0..5);
        assert_eq!(slice_range(Some(1), Some(-1), 5), 1..4);
        assert_eq!(slice_range(Some(-10), Some(2), 5), 0..2);
        assert_eq!(slice_range(Some(4), Some(2), 5), 4..4);
        assert_eq!(slice_range(Some(7), None, 5), 5..5);
    }

    #[test]
    fn insert_positions_follow_python() {
        assert_eq!(insert_position(0, 3), 0);
        assert_eq!(insert_position(-1, 3), 2);
        assert_eq!(insert_position(10, 3), 3);
        assert_eq!(insert_position(-10, 3), 0);
    }
}
