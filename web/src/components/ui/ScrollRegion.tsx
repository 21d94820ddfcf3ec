import type { ReactNode } from "react";

/**
 * A wide table that scrolls sideways on a narrow screen; it takes the keyboard focus so the
 * hidden columns can be scrolled to without a mouse, and names itself for screen readers.
 */
export function ScrollRegion({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div role="region" aria-label={label} tabIndex={0} className="overflow-x-auto">
      {children}
    </div>
  );
}
