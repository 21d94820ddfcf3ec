import { describe, expect, it } from "vitest";
import { listClaim, sessionFromToken } from "./session";

const token = (claims: object) => `h.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.s`;

describe("the session read from a token's claims", () => {
  it("knows the organization, the role and the platform admin group", () => {
    const session = sessionFromToken(token({ sub: "u", org_id: "acme", org_role: "billing_admin", groups: ["billing-admin"], exp: 4_000_000_000 }));
    expect(session).toMatchObject({ homeOrg: "acme", role: "billing_admin", isPlatformAdmin: true });
  });
  it("treats a missing or unknown role as a member", () => {
    expect(sessionFromToken(token({ org_id: "acme" }))?.role).toBe("member");
    expect(sessionFromToken(token({ org_id: "acme", org_role: "root" }))?.role).toBe("member");
  });
  it("refuses an expired or malformed token", () => {
    expect(sessionFromToken(token({ org_id: "acme", exp: 1 }))).toBeNull();
    expect(sessionFromToken("not-a-token")).toBeNull();
  });
  it("reads list claims in every form API Gateway and IdPs send them", () => {
    expect(listClaim(["a", "b"])).toEqual(["a", "b"]);
    expect(listClaim("[a b]")).toEqual(["a", "b"]);
    expect(listClaim("a,b")).toEqual(["a", "b"]);
    expect(listClaim(undefined)).toEqual([]);
  });
});
