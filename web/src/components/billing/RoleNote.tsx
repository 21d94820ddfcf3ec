import { t } from "@/i18n";
import { useOrg } from "@/app/org";

/** Says why an action is missing: members read, operators' views are read-only. */
export function RoleNote() {
  const { canManage, operatorView } = useOrg();
  if (canManage) return null;
  return <p className="text-sm text-slate-600 dark:text-slate-400">{operatorView ? t("role.operatorNote") : t("role.memberNote")}</p>;
}
