pub mod dl;
pub mod elf;
pub mod image;
