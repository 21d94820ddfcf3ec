#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    billing::lambda::run_http(http_put_byo_key::handle).await
}
