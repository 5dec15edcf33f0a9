"""A street's brand (品牌): names, slogan, colours, images and contact channels, versioned."""
