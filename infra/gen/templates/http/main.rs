#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    billing::lambda::run_http({{crate}}::handle).await
}
