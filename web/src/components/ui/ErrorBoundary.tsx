import { Component, type ErrorInfo, type ReactNode } from "react";
import { t } from "@/i18n";
import { Banner } from "./Banner";
import { Button } from "./Button";

/** Keeps one broken panel from blanking the page: it says what failed and offers a retry. */
export class ErrorBoundary extends Component<{ children: ReactNode; label?: string }, { error: Error | null }> {
  state: { error: Error | null } = { error: null };

  static getDerivedStateFromError(error: Error) {
    return { error };
  }

  componentDidCatch(error: Error, info: ErrorInfo) {
    console.error("render failed", error, info.componentStack);
  }

  render() {
    if (!this.state.error) return this.props.children;
    return (
      <Banner
        tone="danger"
        title={t("error.render", { what: this.props.label ?? t("error.thisPart") })}
        action={
          <Button variant="secondary" onClick={() => this.setState({ error: null })}>
            {t("common.retry")}
          </Button>
        }
      >
        {this.state.error.message}
      </Banner>
    );
  }
}
