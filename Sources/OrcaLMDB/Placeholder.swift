public enum OrcaLMDBModule {}
