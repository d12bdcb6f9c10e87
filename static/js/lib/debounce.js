/** Call `fn` once `wait` ms have passed without another call; `.flush()` runs a pending call now. */
export function debounce(fn, wait) {
  let timer = null;
  let pending = null;
  const debounced = (...args) => {
    pending = args;
    clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      const callArgs = pending;
      pending = null;
      fn(...callArgs);
    }, wait);
  };
  debounced.flush = () => {
    if (timer === null) return;
    clearTimeout(timer);
    timer = null;
    const callArgs = pending;
    pending = null;
    fn(...callArgs);
  };
  debounced.cancel = () => {
    clearTimeout(timer);
    timer = null;
    pending = null;
  };
  return debounced;
}
