"""Operations: one public function per command, typed options in, typed results out."""
