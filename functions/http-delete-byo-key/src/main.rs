#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    billing::lambda::run_http(http_delete_byo_key::handle).await
}
