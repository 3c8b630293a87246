// The migrations are embedded in the binary (`embed_migrations!`); rebuild
// when one is added or changed, which cargo would not notice by itself.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
