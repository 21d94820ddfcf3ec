#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    billing::lambda::run_http(http_get_byo_keys::handle).await
}
