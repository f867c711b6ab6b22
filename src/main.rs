/// glibc's allocator spent two fifths of the embedded pipeline's CPU (`cargo bench --bench pipeline`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    voucherdeck::cli::main()
}
