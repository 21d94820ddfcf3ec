import { t } from "@/i18n";
import { reasonError } from "@/lib/admin";
import { TextField } from "@/components/ui/Field";

/** Every operator action names why; the API refuses it without (`reason_required`). */
export function ReasonField({ value, onChange, touched, label }: { value: string; onChange: (value: string) => void; touched: boolean; label?: string }) {
  const problem = touched ? reasonError(value) : null;
  return (
    <TextField
      label={label ?? t("admin.reason.label")}
      hint={t("admin.reason.hint")}
      value={value}
      aria-required="true"
      maxLength={500}
      onChange={(event) => onChange(event.target.value)}
      error={problem ? t(`admin.reason.${problem}`) : null}
    />
  );
}
