//! Prints the OpenAPI document exactly as `GET /api/billing/openapi.json` serves it, without a
//! server or an emulator stack: `cargo run -q -p billing --example openapi > openapi.json`
//! (what `infra/local/openapi-lint.sh` lints).

fn main() -> Result<(), serde_json::Error> {
    println!("{}", serde_json::to_string_pretty(&billing::openapi::document())?);
    Ok(())
}
