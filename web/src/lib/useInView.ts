import { useEffect, useRef, useState } from "react";

/**
 * True once the element has come near the viewport (and stays true): panels below the fold
 * ask the API only when someone scrolls to them, so the first load makes fewer requests.
 */
export function useInView<T extends Element>(margin = "0px") {
  const ref = useRef<T | null>(null);
  const [seen, setSeen] = useState(false);
  useEffect(() => {
    const element = ref.current;
    if (seen || !element) return;
    if (typeof IntersectionObserver === "undefined") {
      setSeen(true);
      return;
    }
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) setSeen(true);
    }, { rootMargin: margin });
    observer.observe(element);
    return () => observer.disconnect();
  }, [seen, margin]);
  return { ref, seen };
}
