//! [`SharedArray<T>`]: a shared memory block as an array of plain-old-data
//! elements.

use std::marker::PhantomData;
use std::ops::RangeBounds;
use std::sync::atomic::AtomicU64;

use bytemuck::Pod;

use super::{Mapping, bounds};
use crate::Error;

/// A mapped shared memory block as `len` elements of `T`, a plain-old-data
/// type (`bytemuck::Pod`: every bit pattern is a value, so whatever another
/// process wrote reads as some `T`).
///
/// Elements are copied in and out ([`get`](SharedArray::get),
/// [`set`](SharedArray::set), and in bulk [`copy_to`](SharedArray::copy_to),
/// [`copy_from`](SharedArray::copy_from), [`to_vec`](SharedArray::to_vec),
/// [`fill`](SharedArray::fill)), never lent as a `&[T]` by the safe API:
/// see [`crate::shared_memory`] on why, and on locking. A
/// `SharedArray<u64>` also has an atomic view, [`atomics`](SharedArray::atomics).
///
/// Made by [`Client::shared_array`](crate::Client::shared_array), which
/// records `T` in the manager so that another process cannot view the
/// block as another type, or from a [`Mapping`] with
/// [`SharedArray::from_mapping`].
///
/// # Panics
///
/// Methods that take an index or a range panic if it is out of bounds, as
/// slice indexing does.
#[derive(Debug)]
pub struct SharedArray<T: Pod> {
    mapping: Mapping,
    len: usize,
    element: PhantomData<T>,
}

impl<T: Pod> SharedArray<T> {
    /// The mapping as elements of `T`.
    ///
    /// # Errors
    ///
    /// [`Error::View`] if `T` is zero-sized, or does not divide the
    /// block's size, or needs an alignment larger than a page.
    pub fn from_mapping(mapping: Mapping) -> Result<Self, Error> {
        let size = std::mem::size_of::<T>();
        let what = || format!("shared memory `{}`", mapping.name());
        let reason = if size == 0 {
            Some(format!("`{}` is zero-sized", std::any::type_name::<T>()))
        } else if !mapping.len().is_multiple_of(size) {
            Some(format!(
                "its {} bytes are not a whole number of `{}` ({size} bytes each)",
                mapping.len(),
                std::any::type_name::<T>()
            ))
        } else if std::mem::align_of::<T>() > 4096 {
            Some(format!(
                "`{}` needs an alignment over a page",
                std::any::type_name::<T>()
            ))
        } else {
            None
        };
        if let Some(reason) = reason {
            return Err(Error::View {
                what: what(),
                reason,
            });
        }
        Ok(SharedArray {
            len: mapping.len() / size,
            mapping,
            element: PhantomData,
        })
    }

    /// The mapping underneath.
    pub fn mapping(&self) -> &Mapping {
        &self.mapping
    }

    /// The mapping underneath, taken out.
    pub fn into_mapping(self) -> Mapping {
        self.mapping
    }

    /// How many elements it has.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it has none (never: a block has at least one byte).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Element `index`, copied out; `None` past the end.
    pub fn get(&self, index: usize) -> Option<T> {
        if index >= self.len {
            return None;
        }
        let mut value = T::zeroed();
        self.copy_to(index, std::slice::from_mut(&mut value));
        Some(value)
    }

    /// Writes `value` at `index`.
    pub fn set(&self, index: usize, value: T) {
        self.copy_from(index, std::slice::from_ref(&value));
    }

    /// Copies `into.len()` elements from `start` into `into`.
    pub fn copy_to(&self, start: usize, into: &mut [T]) {
        let (offset, _) = self.byte_range(start, into.len());
        self.mapping
            .region()
            .read(offset, bytemuck::cast_slice_mut(into));
    }

    /// Copies `from` into the array from `start`.
    pub fn copy_from(&self, start: usize, from: &[T]) {
        let (offset, _) = self.byte_range(start, from.len());
        self.mapping
            .region()
            .write(offset, bytemuck::cast_slice(from));
    }

    /// A copy of the elements in `range`.
    pub fn to_vec(&self, range: impl RangeBounds<usize>) -> Vec<T> {
        let (start, end) = bounds(range, self.len);
        let mut out = vec![T::zeroed(); end - start];
        self.copy_to(start, &mut out);
        out
    }

    /// Sets every element in `range` to `value`.
    pub fn fill(&self, range: impl RangeBounds<usize>, value: T) {
        const CHUNK: usize = 4096;
        let (start, end) = bounds(range, self.len);
        let chunk = vec![value; CHUNK.min(end - start)];
        let mut at = start;
        while at < end {
            let n = chunk.len().min(end - at);
            self.copy_from(at, &chunk[..n]);
            at += n;
        }
    }

    /// A view of the elements in `range`, with the same copying methods,
    /// indexed from the range's start: a worker's part of the array.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let manager = manager::Manager::start()?;
    /// # let client = manager.connect()?;
    /// let array = client.shared_array::<u32>("parts", 8)?;
    /// let second_half = array.slice(4..);
    /// second_half.copy_from(0, &[1, 2, 3, 4]);
    /// assert_eq!(array.to_vec(..), [0, 0, 0, 0, 1, 2, 3, 4]);
    /// assert_eq!(second_half.slice(2..).to_vec(..), [3, 4]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn slice(&self, range: impl RangeBounds<usize>) -> SharedSlice<'_, T> {
        let (start, end) = bounds(range, self.len);
        SharedSlice {
            array: self,
            start,
            len: end - start,
        }
    }

    /// The bytes of `n` elements from `start`: (offset, length).
    fn byte_range(&self, start: usize, n: usize) -> (usize, usize) {
        let end = start.checked_add(n);
        assert!(
            end.is_some_and(|end| end <= self.len),
            "elements {start}..{} are out of range for a shared array of length {}",
            start.saturating_add(n),
            self.len
        );
        let size = std::mem::size_of::<T>();
        (start * size, n * size)
    }
}

impl SharedArray<u64> {
    /// The array as atomic integers: for counters and flags that every
    /// process updates at once (`fetch_add`, `compare_exchange`), with no
    /// lock. Other processes' atomic operations on the same elements are
    /// atomic with this process's.
    pub fn atomics(&self) -> &[AtomicU64] {
        self.mapping.region().atomic_u64s()
    }
}

/// Part of a [`SharedArray`], from [`SharedArray::slice`]: the same
/// copying methods, indexed from the part's start and bounded by its end.
///
/// # Panics
///
/// As the array's, for an index or range outside the part.
#[derive(Debug, Clone, Copy)]
pub struct SharedSlice<'a, T: Pod> {
    array: &'a SharedArray<T>,
    start: usize,
    len: usize,
}

impl<'a, T: Pod> SharedSlice<'a, T> {
    /// How many elements it has.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it has none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Where it starts in its array.
    pub fn start(&self) -> usize {
        self.start
    }

    /// Element `index` of the part, copied out; `None` past its end.
    pub fn get(&self, index: usize) -> Option<T> {
        (index < self.len).then(|| self.array.get(self.start + index))?
    }

    /// Writes `value` at `index` of the part.
    pub fn set(&self, index: usize, value: T) {
        self.check(index, 1);
        self.array.set(self.start + index, value);
    }

    /// Copies `into.len()` elements from `start` of the part into `into`.
    pub fn copy_to(&self, start: usize, into: &mut [T]) {
        self.check(start, into.len());
        self.array.copy_to(self.start + start, into);
    }

    /// Copies `from` into the part from `start`.
    pub fn copy_from(&self, start: usize, from: &[T]) {
        self.check(start, from.len());
        self.array.copy_from(self.start + start, from);
    }

    /// A copy of the elements in `range` of the part.
    pub fn to_vec(&self, range: impl RangeBounds<usize>) -> Vec<T> {
        let (start, end) = bounds(range, self.len);
        self.array.to_vec(self.start + start..self.start + end)
    }

    /// Sets every element in `range` of the part to `value`.
    pub fn fill(&self, range: impl RangeBounds<usize>, value: T) {
        let (start, end) = bounds(range, self.len);
        self.array.fill(self.start + start..self.start + end, value);
    }

    /// A part of this part.
    pub fn slice(&self, range: impl RangeBounds<usize>) -> SharedSlice<'a, T> {
        let (start, end) = bounds(range, self.len);
        SharedSlice {
            array: self.array,
            start: self.start + start,
            len: end - start,
        }
    }

    fn check(&self, start: usize, n: usize) {
        let end = start.checked_add(n);
        assert!(
            end.is_some_and(|end| end <= self.len),
            "elements {start}..{} are out of range for a shared slice of length {}",
            start.saturating_add(n),
            self.len
        );
    }
}
