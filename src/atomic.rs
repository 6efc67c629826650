//! The shapes rdpart's shared state takes again and again, written once
//! (a value made on first use, lock-free, is once_cell's `race::OnceBox`):
//!
//! - [`AtomicFn`]: an optional C function pointer that may be swapped
//!   while other threads read it;
//! - [`AtomicSlice`] and [`Segments`]: per-partition values made on first
//!   use, a slice or a list of growing slices, readers never waiting.

use std::marker::PhantomData;
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering::*};

/// An optional function pointer of type `F` (a C function pointer type),
/// readable and replaceable from any thread.
pub struct AtomicFn<F> {
    addr: AtomicUsize,
    _f: PhantomData<F>,
}

impl<F: Copy> Default for AtomicFn<F> {
    fn default() -> Self {
        Self::none()
    }
}

impl<F: Copy> AtomicFn<F> {
    const CHECK: () = assert!(std::mem::size_of::<F>() == std::mem::size_of::<usize>());

    pub const fn none() -> Self {
        #[allow(clippy::let_unit_value)]
        let () = Self::CHECK;
        AtomicFn {
            addr: AtomicUsize::new(0),
            _f: PhantomData,
        }
    }

    pub fn new(f: Option<F>) -> Self {
        let a = Self::none();
        a.set(f);
        a
    }

    #[inline]
    pub fn get(&self) -> Option<F> {
        match self.addr.load(Acquire) {
            0 => None,
            // SAFETY: a non-zero value was stored from an F (set), which is
            // a function pointer of the same size as usize (CHECK).
            a => Some(unsafe { std::mem::transmute_copy::<usize, F>(&a) }),
        }
    }

    pub fn set(&self, f: Option<F>) {
        // SAFETY: F is a function pointer the size of usize (CHECK).
        let a = f.map_or(0, |f| unsafe { std::mem::transmute_copy::<F, usize>(&f) });
        self.addr.store(a, Release);
    }

    /// Stores a raw address (0: none).
    ///
    /// # Safety
    /// `addr` is 0 or the address of a function whose signature is `F`.
    pub unsafe fn set_addr(&self, addr: usize) {
        self.addr.store(addr, Release);
    }
}

/// A boxed slice of a fixed length, made on first use and freed on drop,
/// as a `OnceBox` is (one load to reach its items).
pub struct AtomicSlice<T> {
    ptr: AtomicPtr<T>,
    len: usize,
}

impl<T> AtomicSlice<T> {
    pub const fn new(len: usize) -> Self {
        AtomicSlice {
            ptr: AtomicPtr::new(std::ptr::null_mut()),
            len,
        }
    }

    /// The items, if made.
    #[inline]
    pub fn get(&self) -> Option<&[T]> {
        let p = self.ptr.load(Acquire);
        // SAFETY: NULL or `len` items installed by get_or_make, freed only
        // on drop.
        (!p.is_null()).then(|| unsafe { std::slice::from_raw_parts(p, self.len) })
    }

    /// The items, made by `make(index)` if there are none yet.
    #[inline]
    pub fn get_or_make(&self, make: impl FnMut(usize) -> T) -> &[T] {
        match self.get() {
            Some(v) => v,
            None => self.install(make),
        }
    }

    #[cold]
    #[inline(never)]
    fn install(&self, make: impl FnMut(usize) -> T) -> &[T] {
        let new = Box::into_raw((0..self.len).map(make).collect::<Box<[T]>>()) as *mut T;
        match self
            .ptr
            .compare_exchange(std::ptr::null_mut(), new, AcqRel, Acquire)
        {
            // SAFETY: now owned by self, `len` items, freed only on drop.
            Ok(_) => unsafe { std::slice::from_raw_parts(new, self.len) },
            Err(other) => {
                // SAFETY: ours, never shared.
                drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(new, self.len)) });
                // SAFETY: installed first, `len` items, freed only on drop.
                unsafe { std::slice::from_raw_parts(other, self.len) }
            }
        }
    }
}

impl<T> Drop for AtomicSlice<T> {
    fn drop(&mut self) {
        let p = *self.ptr.get_mut();
        if !p.is_null() {
            // SAFETY: installed from a boxed slice of `len` items, owned by self.
            drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(p, self.len)) });
        }
    }
}

// SAFETY: it owns its items, handed out as &[T] only.
unsafe impl<T: Send + Sync> Send for AtomicSlice<T> {}
// SAFETY: as above.
unsafe impl<T: Send + Sync> Sync for AtomicSlice<T> {}

/// Items indexed `0..MAX_ITEMS`, in segments that are never moved or
/// copied: segment k holds `FIRST << k` items, made when one of its items
/// is first asked for. So the items take at most twice what the highest
/// index asked for needs, readers never wait, and growing copies nothing.
pub struct Segments<T> {
    segs: [AtomicSlice<T>; SEGMENTS],
    /// Items `0..covered` all exist.
    covered: std::sync::atomic::AtomicU32,
}

const FIRST: u32 = 8;
const SEGMENTS: usize = 14;
/// The most items a `Segments` holds (at 128 bytes each, 8 MB).
pub const MAX_ITEMS: u32 = 1 << 16;
const _: () = assert!(FIRST as u64 * ((1 << SEGMENTS) - 1) >= MAX_ITEMS as u64);

/// The segment of item `i` and its index there.
#[inline]
fn locate(i: u32) -> (usize, usize) {
    let q = i / FIRST + 1;
    let k = 31 - q.leading_zeros();
    (k as usize, (i - FIRST * ((1 << k) - 1)) as usize)
}

impl<T: Default> Default for Segments<T> {
    fn default() -> Self {
        Segments {
            segs: std::array::from_fn(|k| AtomicSlice::new((FIRST as usize) << k)),
            covered: std::sync::atomic::AtomicU32::new(0),
        }
    }
}

impl<T: Default> Segments<T> {
    /// Item `i`, if its segment exists.
    #[inline]
    pub fn get(&self, i: u32) -> Option<&T> {
        if i >= MAX_ITEMS {
            return None;
        }
        let (k, j) = locate(i);
        self.segs[k].get().map(|s| &s[j])
    }

    /// Item `i`, made if needed (None: at or beyond MAX_ITEMS).
    #[inline]
    pub fn get_or_make(&self, i: u32) -> Option<&T> {
        if i >= MAX_ITEMS {
            return None;
        }
        let (k, j) = locate(i);
        Some(&self.segs[k].get_or_make(|_| T::default())[j])
    }

    /// Makes items `0..n` (n capped at MAX_ITEMS).
    #[inline]
    pub fn ensure(&self, n: u32) {
        let n = n.min(MAX_ITEMS);
        if self.covered.load(Relaxed) < n {
            self.cover(n);
        }
    }

    #[cold]
    fn cover(&self, n: u32) {
        if n == 0 {
            return;
        }
        for k in 0..=locate(n - 1).0 {
            self.segs[k].get_or_make(|_| T::default());
        }
        self.covered.fetch_max(n, Relaxed);
    }

    /// Items `0..covered()` all exist (`ensure`).
    #[inline]
    pub fn covered(&self) -> u32 {
        self.covered.load(Relaxed)
    }

    /// Items `0..n` that exist, with their indexes, in order.
    pub fn upto(&self, n: u32) -> impl Iterator<Item = (u32, &T)> {
        let n = n.min(MAX_ITEMS);
        self.segs.iter().enumerate().flat_map(move |(k, seg)| {
            let first = FIRST * ((1 << k) - 1);
            let items = match seg.get() {
                Some(s) if first < n => &s[..s.len().min((n - first) as usize)],
                _ => &[],
            };
            (first..).zip(items)
        })
    }

    /// Every item that exists.
    pub fn each(&self) -> impl Iterator<Item = &T> {
        self.segs.iter().flat_map(|seg| seg.get().unwrap_or(&[]))
    }

    /// Bytes of items made.
    pub fn bytes(&self) -> usize {
        self.segs
            .iter()
            .filter_map(|s| s.get())
            .map(std::mem::size_of_val)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_cover_every_index_once() {
        let mut seen = std::collections::HashSet::new();
        for i in 0..MAX_ITEMS {
            let (k, j) = locate(i);
            assert!(k < SEGMENTS && j < (FIRST as usize) << k, "{i}");
            assert!(seen.insert((k, j)), "{i}");
        }
    }
}
