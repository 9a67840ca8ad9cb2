pub mod elf;
pub mod image;
