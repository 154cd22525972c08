public enum OrcaStoreModule {}
